#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh 'CMD'  Boot the test kernel in QEMU (TCG) with a busybox initramfs
# holding the wasm module, the project's userspace tools, examples/ and
# tests/vm/, run CMD as root inside the guest, print its output and exit
# with its status. Time-bounded (VM_TIMEOUT seconds); a guest panic, hang,
# or an oops/WARN in the guest's dmesg is a failure, shown with the log.
#
# VM_KERNEL picks the kernel (a scripts/build-kernel.sh variant: vm, the
# default, or debug); VM_MEM the guest's memory (default 1G); VM_APPEND adds
# kernel parameters; VM_OOPS_RE replaces the extended regular expression that
# makes a line of the guest's dmesg a failure; VM_EXTRA a directory copied to
# /extra in the guest; VM_QEMU_ARGS more arguments for QEMU (split at spaces).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

cmd=${1:?usage: vm.sh CMD}
timeout_s=${VM_TIMEOUT:-300}
variant=${VM_KERNEL:-vm}
out=$BUILD_DIR/$variant
kernel=$out/arch/x86/boot/bzImage
[[ -f $kernel ]] || die "no kernel at $kernel: run 'scripts/build-kernel.sh $variant'"
release=$(cat "$out/include/config/kernel.release")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,etc,proc,sys,dev,tmp,lib/modules,examples,tests}
cp /bin/busybox "$root/bin/busybox"
cp -a "$out/modroot/lib/modules/$release" "$root/lib/modules/"

# The project's userspace tools, with the shared libraries they need.
tools=()
for t in "$CARGO_TARGET_DIR"/release/{wasmctl,cn-echo,wasm-spec,wasm-hostile,wasm-vmfuzz}; do
	[[ -x $t ]] && tools+=("$t")
done
for t in "${tools[@]}"; do
	cp "$t" "$root/usr/bin/"
	ldd "$t" | grep -o '/[^ ]*' | while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
done
[[ -d $TOP/examples ]] && cp -a "$TOP/examples/." "$root/examples/"
# The C examples, built for WASI by scripts/examples.sh.
[[ -d $CACHE/examples ]] && cp -a "$CACHE/examples/." "$root/examples/"
[[ -d $TOP/tests/vm ]] && cp -a "$TOP/tests/vm/." "$root/tests/"
# VM_EXTRA: a directory of more files for the guest, at /extra.
if [[ -n ${VM_EXTRA:-} ]]; then
	mkdir -p "$root/extra"
	cp -a "$VM_EXTRA/." "$root/extra/"
fi

printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
printf '%s\n' "$cmd" >"$root/cmd"
printf '%s\n' "${VM_OOPS_RE:-Oops|BUG:|WARNING:|Call Trace:|general protection|Kernel panic}" >"$root/oops-re"
cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/usr/bin:/bin:/sbin:/usr/sbin HOME=/ TERM=dumb
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
modprobe wasm || echo "init: modprobe wasm failed"
echo "@@VM-START"
sh /cmd
rc=$?
echo "@@VM-END $rc"
if dmesg | grep -qE "$(cat /oops-re)"; then
	echo "@@VM-OOPS"
	dmesg
fi
reboot -f
INIT
chmod +x "$root/init"

# The console node must be in the archive for init's output to be seen.
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initramfs.cpio"
printf 'dir /dev 0755 0 0\nnod /dev/console 0600 0 0 c 5 1\n' >"$work/dev.list"
"$out/usr/gen_init_cpio" "$work/dev.list" >>"$work/initramfs.cpio"
gzip -1 "$work/initramfs.cpio"

log="$work/console.log"
set +e
# shellcheck disable=SC2086 # VM_QEMU_ARGS is words
timeout -k 5 "$timeout_s" /usr/bin/qemu-system-x86_64 -nodefaults -display none \
	-machine pc -cpu max -smp 2 -m "${VM_MEM:-1G}" -no-reboot \
	-kernel "$kernel" -initrd "$work/initramfs.cpio.gz" \
	-append "console=ttyS0 quiet panic=-1 oops=panic${VM_APPEND:+ $VM_APPEND}" \
	-serial "file:$log" ${VM_QEMU_ARGS:-} </dev/null
qrc=$?
set -e
tr -d '\r' <"$log" >"$log.clean"
if ! grep -q '^@@VM-END ' "$log.clean"; then
	cat "$log.clean" >&2
	if ((qrc == 124)); then
		die "vm: timed out after ${timeout_s}s (console log above)"
	fi
	die "vm: the guest did not finish CMD (QEMU exit $qrc; console log above)"
fi
sed -n '/^@@VM-START$/,/^@@VM-END /p' "$log.clean" | sed '1d;$d'
if grep -q '^@@VM-OOPS$' "$log.clean"; then
	sed -n '/^@@VM-OOPS$/,$p' "$log.clean" >&2
	die "vm: the guest's dmesg has an oops/BUG/WARN (shown above)"
fi
exit "$(sed -n 's/^@@VM-END //p' "$log.clean")"
