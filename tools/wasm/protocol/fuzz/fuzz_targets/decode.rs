// SPDX-License-Identifier: GPL-2.0

//! Any bytes, as a request payload and as a reply payload: decoding must end without
//! panicking, and what decodes must encode back to the same bytes (requests with
//! `Request::encode`, replies with `ReplyWriter`, as the driver writes them) and decode again
//! to the same value. A request that does not decode gets the driver's rejection reply, which
//! must decode to the status of the error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasm_protocol::{
    peek_command, raw_command, ProtoError, Reply, ReplyBody, ReplyWriter, Request, MAX_PAYLOAD_LEN,
};

fuzz_target!(|data: &[u8]| {
    request(data);
    reply(data);
});

fn request(data: &[u8]) {
    let peeked = peek_command(data);
    match Request::decode(data) {
        Ok(req) => {
            assert_eq!(peeked, Ok(req.command()));
            assert_eq!(raw_command(data), req.command().code());
            let mut buf = vec![0u8; data.len()];
            let len = req
                .encode(&mut buf)
                .unwrap_or_else(|e| panic!("{req:?} decodes but does not encode: {e}"));
            assert_eq!(&buf[..len], data, "{req:?} encodes to other bytes");
            assert_eq!(Request::decode(&buf[..len]), Ok(req));
            // A buffer one byte short must be refused, not overrun.
            if len > 0 {
                assert_eq!(
                    req.encode(&mut buf[..len - 1]),
                    Err(ProtoError::BufferTooSmall)
                );
            }
        }
        Err(e) => {
            // What the driver answers.
            let mut buf = [0u8; MAX_PAYLOAD_LEN];
            let bytes = ReplyWriter::reject(&mut buf, data, &e)
                .unwrap_or_else(|e2| panic!("cannot reject ({e}): {e2}"));
            let reply = Reply::decode(bytes).expect("a rejection decodes");
            assert_eq!(reply.status, e.status());
            assert_eq!(reply.command, raw_command(data));
            assert_eq!(reply.body, ReplyBody::Empty);
        }
    }
}

fn reply(data: &[u8]) {
    let Ok(reply) = Reply::decode(data) else {
        return;
    };
    // The writer only fills a connector payload.
    if data.len() > MAX_PAYLOAD_LEN {
        return;
    }
    let mut buf = [0u8; MAX_PAYLOAD_LEN];
    let mut w = ReplyWriter::new(&mut buf, reply.command, reply.status).expect("writer");
    // A LIST page's next cursor is not free for the writer: it is the last entry's handle
    // (the request's cursor when the page is empty). Pages that say otherwise cannot come
    // from the driver; compare everything but the cursor then.
    let mut exact = true;
    match reply.body {
        ReplyBody::Empty => {}
        ReplyBody::Version(info) => w.version(&info).expect("version"),
        ReplyBody::Upload { handle } => w.upload(handle).expect("upload"),
        ReplyBody::Received { bytes } => w.received(bytes).expect("received"),
        ReplyBody::Module(info) => w.module(&info).expect("module"),
        ReplyBody::Instance(info) => w.instance(&info).expect("instance"),
        ReplyBody::Results { fuel_used, values } => w.results(fuel_used, values).expect("results"),
        ReplyBody::List(page) => {
            let mut last = None;
            for entry in page.entries() {
                assert!(w.list_entry(&entry).expect("list entry"), "list entry fits");
                last = Some(entry.handle);
            }
            assert_eq!(page.entries().count(), page.len());
            exact = last.is_none_or(|h| h == page.next_cursor);
            w.list_end(page.next_cursor, page.more).expect("list end");
        }
        ReplyBody::Stats(stats) => w.stats(&stats).expect("stats"),
        ReplyBody::Exports(page) => {
            for e in page.entries() {
                let params: Vec<_> = e.params.iter().collect();
                let results: Vec<_> = e.results.iter().collect();
                let fits = w
                    .export_entry(e.kind, e.name, params, results)
                    .expect("export entry");
                assert!(fits, "export entry fits");
            }
            assert_eq!(page.entries().count(), page.len());
            w.exports_end(page.next_cursor, page.more)
                .expect("exports end");
        }
        ReplyBody::Global(value) => w.global(value).expect("global"),
        ReplyBody::InvalidModule { offset } => w.invalid_module(offset).expect("offset"),
        ReplyBody::Trap(trap) => w.trap(&trap).expect("trap"),
        ReplyBody::Output { fd, data } => w.output(fd, data).expect("output"),
        ReplyBody::AttachInfo(stats) => w.attach_info(&stats).expect("attach info"),
        ReplyBody::Event {
            handle,
            seq,
            record,
        } => w.event(handle, seq, record).expect("event"),
    }
    assert!(w.message(reply.message), "the message fits");
    let bytes = w.finish().expect("finish");
    let again = Reply::decode(bytes).expect("a written reply decodes");
    if exact {
        assert_eq!(bytes, data, "{reply:?} is written as other bytes");
        assert_eq!(again, reply);
    } else {
        let (ReplyBody::List(a), ReplyBody::List(b)) = (again.body, reply.body) else {
            panic!("{reply:?} is written as {again:?}");
        };
        assert!(a.entries().eq(b.entries()) && a.more == b.more);
        assert_eq!(
            (again.command, again.status, again.message),
            (reply.command, reply.status, reply.message)
        );
    }
}
