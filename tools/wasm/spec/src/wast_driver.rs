// SPDX-License-Identifier: GPL-2.0

//! Runs the directives of one `.wast` script against a [`Backend`] and counts the results.
//!
//! Counting rules:
//!
//! - every assertion (`assert_return`, `assert_trap`, `assert_exhaustion`, `assert_invalid`,
//!   `assert_malformed`, `assert_unlinkable`) counts once, as passed, failed or skipped;
//! - a directive that is not an assertion (`module`, `module definition`, `module instance`,
//!   `register`, a bare `invoke`) counts only when it fails, as failed;
//! - what this runner cannot run (SIMD values, threads, exceptions, components, custom-section
//!   assertions) counts as skipped.
//!
//! When an assertion passes:
//!
//! - `assert_return`: the results match in number and each matches its pattern (see
//!   [`crate::expected`]: floats bit for bit unless `nan:canonical`/`nan:arithmetic`);
//! - `assert_trap` and `assert_exhaustion`: the action traps, and the expected message and the
//!   engine's message match by prefix ([`trap_message_matches`]); `assert_trap (module …)`,
//!   WebAssembly 2.0's form of `assert_uninstantiable`, expects instantiation to trap;
//! - `assert_invalid` and `assert_malformed`: `Module::new` rejects the module, with any message
//!   (the engine's validator words its errors differently from the reference interpreter); an
//!   `assert_malformed` on a `module quote` whose text the text parser rejects passes without
//!   reaching the engine, as those cases test the text format only;
//! - `assert_unlinkable`: instantiation fails with a link error, with any message.
//!
//! After a module fails to instantiate, directives that use it fail with a reason that points
//! back at it, and the script goes on. A panic while running a directive (inside the engine or
//! here) fails that directive only.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use wast::core::{AbstractHeapType, HeapType, NanPattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, Span};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

use crate::backend::{display_values, Backend, Error, InstanceId, Value};
use crate::expected::{
    display_expected, results_match, trap_message_matches, Expected, FloatPattern, RefType,
};

/// One directive that did not pass: a failure or a skip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The 1-based line of the directive in the script.
    pub line: usize,
    /// The directive's keyword, such as `assert_return`.
    pub directive: &'static str,
    /// What was expected and what happened instead, or why it was skipped.
    pub message: String,
}

/// The results of one script.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// Assertions that passed.
    pub passed: usize,
    /// Directives that failed.
    pub failed: usize,
    /// Directives that were not run.
    pub skipped: usize,
    /// Details of every failed directive, in script order.
    pub failures: Vec<Failure>,
    /// Details of every skipped directive, in script order.
    pub skips: Vec<Failure>,
}

impl Report {
    /// Records a failure of the directive at `line`.
    pub fn fail(&mut self, line: usize, directive: &'static str, message: String) {
        self.failed += 1;
        self.failures.push(Failure {
            line,
            directive,
            message,
        });
    }

    /// Records that the directive at `line` was skipped.
    pub fn skip(&mut self, line: usize, directive: &'static str, message: String) {
        self.skipped += 1;
        self.skips.push(Failure {
            line,
            directive,
            message,
        });
    }
}

/// How far a script has got, shared with whoever waits for it (see [`run_script_tracked`]).
#[derive(Debug, Default)]
pub struct Progress {
    /// The results of the directives that have finished.
    pub report: Report,
    /// The directive running now: its line and keyword.
    pub running: Option<(usize, &'static str)>,
    /// How many assertions have not started yet.
    pub assertions_left: usize,
}

impl Progress {
    /// The report of a script abandoned while running, for example because it took too long:
    /// the running directive fails with `why`, and the assertions that never ran are skipped.
    pub fn abandon(self, why: &str) -> Report {
        let mut report = self.report;
        let (line, directive) = self.running.unwrap_or((0, "script"));
        report.fail(line, directive, why.to_string());
        if self.assertions_left > 0 {
            report.skip(
                line,
                "script",
                format!(
                    "{} assertions after this one never ran",
                    self.assertions_left
                ),
            );
            report.skipped += self.assertions_left - 1;
        }
        report
    }
}

/// Locks `progress`, whatever happened to its previous holder.
pub fn lock(progress: &Mutex<Progress>) -> MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How one directive ended.
#[derive(Debug)]
enum Outcome {
    /// An assertion held.
    Pass,
    /// A directive that is not an assertion succeeded: not counted.
    Done,
    /// The directive failed, for this reason.
    Fail(String),
    /// The directive was not run, for this reason.
    Skip(String),
}

/// Why an action (an `invoke`, a `get` or a module to instantiate) produced no values.
#[derive(Debug)]
enum ActionError {
    /// The action uses something this runner does not support: the assertion is skipped.
    Unsupported(String),
    /// The action could not be attempted (no such module, the text did not encode).
    Setup(String),
    /// The backend ran it and reported an error.
    Backend(Error),
}

impl From<Error> for ActionError {
    fn from(err: Error) -> Self {
        ActionError::Backend(err)
    }
}

/// Parses and runs the script `source` on `backend`, keeping the results in `progress` as they
/// come in, so that another thread can see how far the script has got.
///
/// A script that does not parse counts as one failed directive.
pub fn run_script_tracked(source: &str, backend: &mut dyn Backend, progress: &Mutex<Progress>) {
    let result = catch_panics(AssertUnwindSafe(|| -> Result<(), wast::Error> {
        let mut lexer = Lexer::new(source);
        // The testsuite deliberately uses bidirectional-override characters in strings.
        lexer.allow_confusing_unicode(true);
        let buffer = ParseBuffer::new_with_lexer(lexer)?;
        let wast = parser::parse::<Wast<'_>>(&buffer)?;
        lock(progress).assertions_left = wast.directives.iter().filter(|d| is_assertion(d)).count();
        let mut script = Script::new(source, backend, progress);
        for directive in wast.directives {
            script.run(directive);
        }
        Ok(())
    }));
    let (line, message) = match result {
        Ok(Ok(())) => return,
        Ok(Err(err)) => (
            line_of(source, err.span()),
            format!("does not parse: {}", err.message()),
        ),
        Err(panic) => (0, format!("panicked: {panic}")),
    };
    lock(progress).report.fail(line, "script", message);
}

/// The state of a running script.
struct Script<'a, 'b> {
    /// The script's text, for line numbers.
    source: &'a str,
    /// Where the modules run.
    backend: &'b mut dyn Backend,
    /// Where the results go.
    progress: &'b Mutex<Progress>,
    /// The most recent module, or why there is none.
    current: Result<InstanceId, String>,
    /// Modules named `$id`, or why they are not there.
    named: HashMap<String, Result<InstanceId, String>>,
    /// Encoded `module definition`s by name, for `module instance`.
    definitions: HashMap<String, Vec<u8>>,
}

impl<'a, 'b> Script<'a, 'b> {
    /// A script with no module yet.
    fn new(source: &'a str, backend: &'b mut dyn Backend, progress: &'b Mutex<Progress>) -> Self {
        Script {
            source,
            backend,
            progress,
            current: Err("no module has been defined yet".to_string()),
            named: HashMap::new(),
            definitions: HashMap::new(),
        }
    }

    /// Runs one directive and counts it.
    fn run(&mut self, directive: WastDirective<'_>) {
        let line = line_of(self.source, directive.span());
        let name = directive_name(&directive);
        let defines = defined_module(&directive);
        {
            let mut progress = lock(self.progress);
            progress.running = Some((line, name));
            if is_assertion(&directive) {
                progress.assertions_left = progress.assertions_left.saturating_sub(1);
            }
        }
        let outcome = match catch_panics(AssertUnwindSafe(|| self.directive(directive, line))) {
            Ok(outcome) => outcome,
            Err(panic) => {
                // Do not let later directives run on the module before this one.
                if let Some(id) = defines {
                    let missing = Err(format!("the module at line {line} is missing (panic)"));
                    if let Some(id) = id {
                        self.named.insert(id, missing.clone());
                    }
                    self.current = missing;
                }
                Outcome::Fail(format!("panicked: {panic}"))
            }
        };
        let mut progress = lock(self.progress);
        progress.running = None;
        let report = &mut progress.report;
        match outcome {
            Outcome::Pass => report.passed += 1,
            Outcome::Done => {}
            Outcome::Skip(message) => report.skip(line, name, message),
            Outcome::Fail(message) => report.fail(line, name, message),
        }
    }

    /// Runs one directive.
    fn directive(&mut self, directive: WastDirective<'_>, line: usize) -> Outcome {
        match directive {
            WastDirective::Module(module) => self.module(module, line),
            WastDirective::ModuleDefinition(module) => self.module_definition(module),
            WastDirective::ModuleInstance {
                instance, module, ..
            } => self.module_instance(instance, module, line),
            WastDirective::Register { name, module, .. } => self.register(name, module),
            WastDirective::Invoke(invoke) => match self.invoke(&invoke) {
                Ok(_) => Outcome::Done,
                Err(err) => action_failure(err, &describe_invoke(&invoke)),
            },
            WastDirective::AssertReturn { exec, results, .. } => self.assert_return(exec, &results),
            WastDirective::AssertTrap { exec, message, .. } => self.assert_trap(exec, message),
            WastDirective::AssertExhaustion { call, message, .. } => {
                let what = describe_invoke(&call);
                let result = self.invoke(&call);
                expect_trap(result, message, &what)
            }
            WastDirective::AssertInvalid { module, .. } => self.assert_rejected(module, false),
            WastDirective::AssertMalformed { module, .. } => self.assert_rejected(module, true),
            WastDirective::AssertUnlinkable { module, .. } => self.assert_unlinkable(module),
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                Outcome::Skip("custom-section assertions are not supported".to_string())
            }
            WastDirective::AssertException { .. } | WastDirective::AssertSuspension { .. } => {
                Outcome::Skip("exceptions and stack switching are not supported".to_string())
            }
            WastDirective::Thread(_) | WastDirective::Wait { .. } => {
                Outcome::Skip("threads are not supported".to_string())
            }
        }
    }

    /// `(module …)`: instantiates a module and makes it the current one.
    fn module(&mut self, mut module: QuoteWat<'_>, line: usize) -> Outcome {
        let name = quote_wat_id(&module).map(|id| id.name().to_string());
        let result = match encode(&mut module) {
            Ok(bytes) => self.backend.instantiate(&bytes).map_err(|e| e.to_string()),
            Err(err) => Err(err),
        };
        let (outcome, instance) = match result {
            Ok(id) => (Outcome::Done, Ok(id)),
            Err(err) => (
                Outcome::Fail(err.clone()),
                Err(format!("the module at line {line} is missing ({err})")),
            ),
        };
        if let Some(name) = name {
            self.named.insert(name, instance.clone());
        }
        self.current = instance;
        outcome
    }

    /// `(module definition $id …)`: validates a module and keeps it for `module instance`.
    fn module_definition(&mut self, mut module: QuoteWat<'_>) -> Outcome {
        let name = quote_wat_id(&module).map(|id| id.name().to_string());
        let bytes = match encode(&mut module) {
            Ok(bytes) => bytes,
            Err(err) => return Outcome::Fail(err),
        };
        if let Err(err) = self.backend.validate(&bytes) {
            return Outcome::Fail(err.to_string());
        }
        if let Some(name) = name {
            self.definitions.insert(name, bytes);
        }
        Outcome::Done
    }

    /// `(module instance $i $m)`: instantiates a `module definition`.
    fn module_instance(
        &mut self,
        instance: Option<Id<'_>>,
        module: Option<Id<'_>>,
        line: usize,
    ) -> Outcome {
        let Some(module) = module else {
            return Outcome::Skip("`module instance` without a definition name".to_string());
        };
        let result = match self.definitions.get(module.name()) {
            Some(bytes) => self.backend.instantiate(bytes).map_err(|e| e.to_string()),
            None => Err(format!("no module definition ${}", module.name())),
        };
        let (outcome, id) = match result {
            Ok(id) => (Outcome::Done, Ok(id)),
            Err(err) => (
                Outcome::Fail(err.clone()),
                Err(format!("the instance at line {line} is missing ({err})")),
            ),
        };
        if let Some(instance) = instance {
            self.named.insert(instance.name().to_string(), id.clone());
        }
        self.current = id;
        outcome
    }

    /// `(register "name" $id?)`.
    fn register(&mut self, name: &str, module: Option<Id<'_>>) -> Outcome {
        let result = self
            .instance(module)
            .and_then(|id| self.backend.register(name, id).map_err(|e| e.to_string()));
        match result {
            Ok(()) => Outcome::Done,
            Err(err) => Outcome::Fail(format!("register {name:?}: {err}")),
        }
    }

    /// The instance a directive names, or the current one.
    fn instance(&self, module: Option<Id<'_>>) -> Result<InstanceId, String> {
        match module {
            None => self.current.clone(),
            Some(id) => match self.named.get(id.name()) {
                Some(instance) => instance.clone(),
                None => Err(format!("no module named ${}", id.name())),
            },
        }
    }

    /// Calls an exported function.
    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Vec<Value>, ActionError> {
        let args = invoke
            .args
            .iter()
            .map(arg_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(ActionError::Unsupported)?;
        let instance = self.instance(invoke.module).map_err(ActionError::Setup)?;
        Ok(self.backend.invoke(instance, invoke.name, &args)?)
    }

    /// Runs the action of an assertion.
    fn execute(&mut self, exec: &mut WastExecute<'_>) -> Result<Vec<Value>, ActionError> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(invoke),
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(*module).map_err(ActionError::Setup)?;
                Ok(vec![self.backend.get(instance, global)?])
            }
            WastExecute::Wat(Wat::Module(module)) => {
                let bytes = module
                    .encode()
                    .map_err(|e| ActionError::Setup(text_error(&e)))?;
                self.backend.instantiate(&bytes)?;
                Ok(Vec::new())
            }
            WastExecute::Wat(Wat::Component(_)) => Err(ActionError::Unsupported(
                "components are not supported".to_string(),
            )),
        }
    }

    /// `assert_return`: the action must return values matching `results`.
    fn assert_return(&mut self, mut exec: WastExecute<'_>, results: &[WastRet<'_>]) -> Outcome {
        let expected = match results
            .iter()
            .map(expected_value)
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(expected) => expected,
            Err(unsupported) => return Outcome::Skip(unsupported),
        };
        let what = describe_execute(&exec);
        match self.execute(&mut exec) {
            Ok(got) if results_match(&expected, &got) => Outcome::Pass,
            Ok(got) => Outcome::Fail(format!(
                "{what}: expected {}, got {}",
                display_expected(&expected),
                display_values(&got)
            )),
            Err(ActionError::Backend(err)) => Outcome::Fail(format!(
                "{what}: expected {}, got {err}",
                display_expected(&expected)
            )),
            Err(err) => action_failure(err, &what),
        }
    }

    /// `assert_trap`: the call or the instantiation must trap with `message`.
    fn assert_trap(&mut self, mut exec: WastExecute<'_>, message: &str) -> Outcome {
        let what = describe_execute(&exec);
        let result = self.execute(&mut exec);
        expect_trap(result, message, &what)
    }

    /// `assert_invalid` and `assert_malformed`: `Module::new` must reject the module.
    ///
    /// For `assert_malformed`, a `module quote` that the text parser already rejects passes
    /// too: those cases test the text format only and never reach the engine.
    fn assert_rejected(&mut self, mut module: QuoteWat<'_>, malformed: bool) -> Outcome {
        let quoted = match &module {
            QuoteWat::QuoteModule(..) => true,
            QuoteWat::Wat(Wat::Module(_)) => false,
            QuoteWat::QuoteComponent(..) | QuoteWat::Wat(Wat::Component(_)) => {
                return Outcome::Skip("components are not supported".to_string())
            }
        };
        let bytes = match encode(&mut module) {
            Ok(bytes) => bytes,
            Err(_) if malformed && quoted => return Outcome::Pass,
            Err(err) => return Outcome::Fail(err),
        };
        match self.backend.validate(&bytes) {
            Err(Error::Compile(_)) => Outcome::Pass,
            Ok(()) => Outcome::Fail("expected the module to be rejected, it was accepted".into()),
            Err(err) => Outcome::Fail(format!("expected the module to be rejected, got {err}")),
        }
    }

    /// `assert_unlinkable`: the module must be valid and fail to link.
    fn assert_unlinkable(&mut self, module: Wat<'_>) -> Outcome {
        let Wat::Module(mut module) = module else {
            return Outcome::Skip("components are not supported".to_string());
        };
        let bytes = match module.encode() {
            Ok(bytes) => bytes,
            Err(err) => return Outcome::Fail(text_error(&err)),
        };
        match self.backend.instantiate(&bytes) {
            Err(Error::Link(_)) => Outcome::Pass,
            Ok(_) => Outcome::Fail("expected a link error, the module was instantiated".into()),
            Err(err) => Outcome::Fail(format!("expected a link error, got {err}")),
        }
    }
}

/// The outcome of an action that should have trapped with `message`.
fn expect_trap(result: Result<Vec<Value>, ActionError>, message: &str, what: &str) -> Outcome {
    match result {
        Err(ActionError::Backend(Error::Trap(got))) if trap_message_matches(message, &got) => {
            Outcome::Pass
        }
        Err(ActionError::Backend(err)) => {
            Outcome::Fail(format!("{what}: expected trap {message:?}, got {err}"))
        }
        Ok(values) => Outcome::Fail(format!(
            "{what}: expected trap {message:?}, got {}",
            display_values(&values)
        )),
        Err(err) => action_failure(err, what),
    }
}

/// The outcome of an action that failed before or inside the backend.
fn action_failure(err: ActionError, what: &str) -> Outcome {
    match err {
        ActionError::Unsupported(why) => Outcome::Skip(why),
        ActionError::Setup(why) => Outcome::Fail(format!("{what}: {why}")),
        ActionError::Backend(err) => Outcome::Fail(format!("{what}: {err}")),
    }
}

/// Encodes a module directive to binary, parsing quoted text as needed.
fn encode(module: &mut QuoteWat<'_>) -> Result<Vec<u8>, String> {
    module.encode().map_err(|e| text_error(&e))
}

/// Describes an error of the text parser or encoder.
fn text_error(err: &wast::Error) -> String {
    format!("the text parser rejected the module: {}", err.message())
}

/// The `$id` a module directive binds, if any.
fn quote_wat_id<'a>(module: &QuoteWat<'a>) -> Option<Id<'a>> {
    match module {
        QuoteWat::Wat(Wat::Module(m)) => m.id,
        _ => None,
    }
}

/// For a directive that makes a new current module, the `$id` it binds, if any.
fn defined_module(directive: &WastDirective<'_>) -> Option<Option<String>> {
    match directive {
        WastDirective::Module(module) => Some(quote_wat_id(module).map(|id| id.name().to_string())),
        WastDirective::ModuleInstance { instance, .. } => {
            Some(instance.map(|id| id.name().to_string()))
        }
        _ => None,
    }
}

/// Converts a script argument to a [`Value`], or says why it cannot be.
fn arg_value(arg: &WastArg<'_>) -> Result<Value, String> {
    let WastArg::Core(core) = arg else {
        return Err("component values are not supported".to_string());
    };
    match core {
        WastArgCore::I32(v) => Ok(Value::I32(*v)),
        WastArgCore::I64(v) => Ok(Value::I64(*v)),
        WastArgCore::F32(v) => Ok(Value::F32(v.bits)),
        WastArgCore::F64(v) => Ok(Value::F64(v.bits)),
        WastArgCore::RefNull(heap) => Ok(match ref_type(heap)? {
            RefType::Func => Value::FuncRef(None),
            RefType::Extern => Value::ExternRef(None),
        }),
        WastArgCore::RefExtern(n) => Ok(Value::ExternRef(Some(*n))),
        WastArgCore::V128(_) => Err("v128 arguments are not supported".to_string()),
        WastArgCore::RefHost(_) => Err("ref.host arguments are not supported".to_string()),
    }
}

/// Converts an expected result of a script, or says why it cannot be.
fn expected_value(ret: &WastRet<'_>) -> Result<Expected, String> {
    let WastRet::Core(core) = ret else {
        return Err("component values are not supported".to_string());
    };
    expected_core(core)
}

/// Converts an expected core-wasm result.
fn expected_core(core: &WastRetCore<'_>) -> Result<Expected, String> {
    Ok(match core {
        WastRetCore::I32(v) => Expected::I32(*v),
        WastRetCore::I64(v) => Expected::I64(*v),
        WastRetCore::F32(p) => Expected::F32(float_pattern(p, |f| f.bits)),
        WastRetCore::F64(p) => Expected::F64(float_pattern(p, |f| f.bits)),
        WastRetCore::RefNull(None) => Expected::NullRef(None),
        WastRetCore::RefNull(Some(heap)) => Expected::NullRef(Some(ref_type(heap)?)),
        WastRetCore::RefExtern(n) => Expected::ExternRef(*n),
        WastRetCore::RefFunc(_) => Expected::FuncRef,
        WastRetCore::Either(cases) => {
            Expected::Either(cases.iter().map(expected_core).collect::<Result<_, _>>()?)
        }
        other => return Err(format!("unsupported expected result {other:?}")),
    })
}

/// Converts a float pattern, taking the bits of a value with `bits`.
fn float_pattern<F, T>(pattern: &NanPattern<F>, bits: impl Fn(&F) -> T) -> FloatPattern<T> {
    match pattern {
        NanPattern::CanonicalNan => FloatPattern::CanonicalNan,
        NanPattern::ArithmeticNan => FloatPattern::ArithmeticNan,
        NanPattern::Value(v) => FloatPattern::Bits(bits(v)),
    }
}

/// The reference type a `ref.null` names; only the WebAssembly 2.0 types are supported.
fn ref_type(heap: &HeapType<'_>) -> Result<RefType, String> {
    match heap {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
        } => Ok(RefType::Func),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
        } => Ok(RefType::Extern),
        other => Err(format!("unsupported reference type {other:?}")),
    }
}

/// A short description of an action, for failure reports.
fn describe_execute(exec: &WastExecute<'_>) -> String {
    match exec {
        WastExecute::Invoke(invoke) => describe_invoke(invoke),
        WastExecute::Get { module, global, .. } => match module {
            Some(id) => format!("get ${} {global:?}", id.name()),
            None => format!("get {global:?}"),
        },
        WastExecute::Wat(_) => "module".to_string(),
    }
}

/// A short description of an invocation, for failure reports.
fn describe_invoke(invoke: &WastInvoke<'_>) -> String {
    let args: Vec<String> = invoke
        .args
        .iter()
        .map(|arg| match arg_value(arg) {
            Ok(value) => value.to_string(),
            Err(_) => "?".to_string(),
        })
        .collect();
    let module = invoke
        .module
        .map(|id| format!("${} ", id.name()))
        .unwrap_or_default();
    format!("invoke {module}{:?} ({})", invoke.name, args.join(", "))
}

/// Whether a directive is an assertion, which counts even when it passes.
fn is_assertion(directive: &WastDirective<'_>) -> bool {
    !matches!(
        directive,
        WastDirective::Module(_)
            | WastDirective::ModuleDefinition(_)
            | WastDirective::ModuleInstance { .. }
            | WastDirective::Register { .. }
            | WastDirective::Invoke(_)
    )
}

/// The keyword of a directive, for failure reports.
fn directive_name(directive: &WastDirective<'_>) -> &'static str {
    match directive {
        WastDirective::Module(_) => "module",
        WastDirective::ModuleDefinition(_) => "module definition",
        WastDirective::ModuleInstance { .. } => "module instance",
        WastDirective::AssertMalformed { .. } => "assert_malformed",
        WastDirective::AssertInvalid { .. } => "assert_invalid",
        WastDirective::AssertInvalidCustom { .. } => "assert_invalid_custom",
        WastDirective::AssertMalformedCustom { .. } => "assert_malformed_custom",
        WastDirective::Register { .. } => "register",
        WastDirective::Invoke(_) => "invoke",
        WastDirective::AssertTrap { .. } => "assert_trap",
        WastDirective::AssertReturn { .. } => "assert_return",
        WastDirective::AssertExhaustion { .. } => "assert_exhaustion",
        WastDirective::AssertUnlinkable { .. } => "assert_unlinkable",
        WastDirective::AssertException { .. } => "assert_exception",
        WastDirective::AssertSuspension { .. } => "assert_suspension",
        WastDirective::Thread(_) => "thread",
        WastDirective::Wait { .. } => "wait",
    }
}

/// The 1-based line of `span` in `source`.
fn line_of(source: &str, span: Span) -> usize {
    span.linecol_in(source).0 + 1
}

/// A panic hook, as `std::panic::take_hook` returns it.
type PanicHook = Box<dyn Fn(&panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

thread_local! {
    /// Whether this thread is inside [`catch_panics`].
    static CATCHING: Cell<bool> = const { Cell::new(false) };
    /// The message and location of the last panic caught on this thread.
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Installs a panic hook that stays quiet for panics that [`catch_panics`] will report, and
/// defers to the previous hook for all others. Installs it once however often it is called.
pub fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| quiet_hook(info, &default)));
    });
}

/// The panic hook: records the panic for [`catch_panics`], or hands it to `default`.
fn quiet_hook(info: &panic::PanicHookInfo<'_>, default: &PanicHook) {
    if CATCHING.with(Cell::get) {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(non-string payload)");
        let text = match info.location() {
            Some(loc) => format!("{message} at {}:{}", loc.file(), loc.line()),
            None => message.to_string(),
        };
        LAST_PANIC.with(|last| *last.borrow_mut() = Some(text));
    } else {
        default(info);
    }
}

/// Runs `f`, turning a panic into an error that carries the panic's message and location.
pub fn catch_panics<R>(f: impl FnOnce() -> R + panic::UnwindSafe) -> Result<R, String> {
    let was_catching = CATCHING.with(|c| c.replace(true));
    let result = panic::catch_unwind(f);
    CATCHING.with(|c| c.set(was_catching));
    result.map_err(|payload| {
        LAST_PANIC
            .with(|last| last.borrow_mut().take())
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend whose functions behave according to their export names.
    struct Fake;

    impl Backend for Fake {
        /// Accepts anything with a complete header.
        fn validate(&mut self, bytes: &[u8]) -> Result<(), Error> {
            if bytes.len() < 8 {
                return Err(Error::Compile("unexpected end".to_string()));
            }
            Ok(())
        }

        fn instantiate(&mut self, _bytes: &[u8]) -> Result<InstanceId, Error> {
            Ok(InstanceId(0))
        }

        fn register(&mut self, _name: &str, _instance: InstanceId) -> Result<(), Error> {
            Ok(())
        }

        fn invoke(
            &mut self,
            _: InstanceId,
            export: &str,
            _: &[Value],
        ) -> Result<Vec<Value>, Error> {
            match export {
                "one" => Ok(vec![Value::I32(1)]),
                "nan" => Ok(vec![Value::F32(0xffc0_0000)]),
                "trap" => Err(Error::Trap("unreachable".to_string())),
                "panic" => panic!("engine bug"),
                _ => Err(Error::Other("unknown export".to_string())),
            }
        }

        fn get(&mut self, _: InstanceId, _export: &str) -> Result<Value, Error> {
            Ok(Value::I64(7))
        }
    }

    fn run(script: &str) -> Report {
        install_panic_hook();
        let progress = Mutex::default();
        run_script_tracked(script, &mut Fake, &progress);
        let report = lock(&progress).report.clone();
        report
    }

    #[test]
    fn counts_assertions_and_reports_failures() {
        let report = run(r#"
            (module (func (export "one")))
            (assert_return (invoke "one") (i32.const 1))
            (assert_return (invoke "nan") (f32.const nan:canonical))
            (assert_return (invoke "one") (i32.const 2))
            (assert_trap (invoke "trap") "unreachable executed")
            (assert_trap (invoke "one") "unreachable")
            (assert_return (get "g") (i64.const 7))
            (invoke "one")
            (assert_return (invoke "v128") (v128.const i32x4 0 0 0 0))
        "#);
        assert_eq!((report.passed, report.failed, report.skipped), (4, 2, 1));
        assert_eq!(report.failures[0].line, 5);
        assert_eq!(report.failures[0].directive, "assert_return");
        assert!(report.failures[0]
            .message
            .contains("expected [i32:2], got [i32:1]"));
        assert_eq!(report.failures[1].line, 7);
    }

    #[test]
    fn text_only_malformed_modules_pass() {
        let report = run(r#"
            (assert_malformed (module quote "(func (i32.const 0x))") "unknown operator")
            (assert_malformed (module binary "\00asm") "unexpected end")
            (assert_invalid (module (func (result i32))) "type mismatch")
        "#);
        // The text parser rejects the first, the backend the second; the third is accepted.
        assert_eq!((report.passed, report.failed, report.skipped), (2, 1, 0));
        assert_eq!(report.failures[0].directive, "assert_invalid");
    }

    #[test]
    fn panics_fail_one_directive() {
        let report = run(r#"
            (module)
            (assert_return (invoke "panic"))
            (assert_return (invoke "one") (i32.const 1))
        "#);
        assert_eq!((report.passed, report.failed), (1, 1));
        assert!(report.failures[0].message.contains("engine bug"));
    }

    #[test]
    fn abandoned_scripts_count_what_never_ran() {
        let mut progress = Progress {
            running: Some((10, "assert_return")),
            assertions_left: 5,
            ..Progress::default()
        };
        progress.report.passed = 3;
        let report = progress.abandon("did not finish in 1 s");
        assert_eq!((report.passed, report.failed, report.skipped), (3, 1, 5));
        assert_eq!(report.failures[0].line, 10);
        assert_eq!(report.failures[0].directive, "assert_return");
    }

    #[test]
    fn missing_modules_are_failures() {
        let report = run(r#"
            (assert_return (invoke "one") (i32.const 1))
            (register "M" $missing)
            (assert_return (invoke $missing "one") (i32.const 1))
        "#);
        assert_eq!((report.passed, report.failed), (0, 3));
        let report = run("(module");
        assert_eq!((report.passed, report.failed), (0, 1));
        assert_eq!(report.failures[0].directive, "script");
    }
}
