#!/usr/bin/env bash
# npm run test:provision — the real provisioning test (issue #8; docs/provisioning.md "How this is tested"):
# debootstrap a Debian bookworm rootfs, lay a Jetson board fixture into it, run
# ansible/site.yml against it through community.general.chroot, assert what a board owner
# would check, run it again and require changed=0. A board fixture whose provision-test.env
# says PLUGIN_SWAP=yes also gets the TensorRT plugin built and swapped by the role (the agent's
# own `plugin build` / `plugin install` inside the target), checked afterwards in the target.
#
# Needs root, debootstrap and ansible (scripts/system-deps.json). The finished rootfs is
# cached as a tarball under $PROVISION_TEST_CACHE (default .cache/provision) keyed by
# mirror + suite + packages; the archive mirror comes from this machine's apt sources.
# KEEP_ROOTFS=1 keeps the work dir for inspection.
# check() evaluates its single-quoted condition later, on purpose:
# shellcheck disable=SC2016
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
# The chroot connection passes this environment to the target, and the agent rejects unknown
# JETSON_AGENT_* variables as config errors: none may leak from the caller.
while IFS='=' read -r name _; do
	case $name in JETSON_AGENT_*) unset "$name" ;; esac
done < <(env)
CACHE=${PROVISION_TEST_CACHE:-$REPO/.cache/provision}
SUITE=bookworm
# python3: Ansible's modules; systemd: systemctl enable in the target; sudo: the play's
# become (as on a JetPack board), and become_user for the agent-user tasks.
INCLUDE=python3,systemd,sudo
T0=$(date +%s)

log() { printf '[provision-test %4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
fail() {
	printf '[provision-test] FAIL: %s\n' "$*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || fail "needs root (debootstrap and chroot)"
for c in debootstrap ansible-playbook chroot systemd-analyze python3 tar; do
	command -v "$c" >/dev/null || fail "$c not installed (see scripts/system-deps.json)"
done

WORK=$(mktemp -d /tmp/jetson-provision-test.XXXXXX)
cleanup() {
	# A board's /proc (below) holds a real procfs: unmount it before anything is removed.
	if [ -n "${ROOTFS:-}" ] && mountpoint -q "$ROOTFS/proc" 2>/dev/null; then
		umount -R "$ROOTFS/proc" 2>/dev/null || umount -lR "$ROOTFS/proc"
	fi
	if [ "${KEEP_ROOTFS:-0}" = 1 ]; then log "kept $WORK"; else rm -rf --one-file-system "$WORK"; fi
}
trap cleanup EXIT
ROOTFS=$WORK/rootfs

# ---- archive mirror from this machine's apt sources (never hard-coded) ----------------
mirror=$(python3 - "$SUITE" <<'EOF'
import glob, sys
suite = sys.argv[1]
# deb822 .sources files first, then one-line sources.list entries.
for path in sorted(glob.glob("/etc/apt/sources.list.d/*.sources")):
    for stanza in open(path).read().split("\n\n"):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            k, v = line.split(":", 1)
            fields[k.strip().lower()] = v.split()
        if fields.get("enabled", ["yes"])[0] == "no":
            continue
        if "deb" in fields.get("types", []) and suite in fields.get("suites", []) and fields.get("uris"):
            print(fields["uris"][0]); sys.exit(0)
for path in ["/etc/apt/sources.list"] + sorted(glob.glob("/etc/apt/sources.list.d/*.list")):
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        parts = [p for p in line.split() if not p.startswith("[")] if not line.lstrip().startswith("[") else line.split("]", 1)[-1].split()
        if len(parts) >= 3 and parts[0] == "deb" and parts[2] == suite:
            print(parts[1]); sys.exit(0)
sys.exit(1)
EOF
) || fail "no 'deb' source for $SUITE in /etc/apt/sources.list(.d): cannot pick a debootstrap mirror"
log "mirror from apt sources: $mirror"

# ---- board fixture ------------------------------------------------------------------------
fixture=${BOARD_FIXTURE:-}
if [ -z "$fixture" ]; then
	orin=
	for d in "$REPO/test/fixtures/boards/orin-nano-jp6" "$REPO/test/provision/fixtures/orin-nano-jp6"; do
		if [ -f "$d/etc/nv_tegra_release" ]; then orin=$d; break; fi
	done
	[ -n "$orin" ] || fail "no board fixture"
	rm -rf "$WORK"
	trap - EXIT
	for f in "$orin" "$REPO/test/provision/fixtures/nano-jp44"; do
		log "=== board $(basename "$f") ==="
		BOARD_FIXTURE=$f "$0" || fail "board $(basename "$f") failed"
	done
	log "PASS (both boards) in $(($(date +%s) - T0))s"
	exit 0
fi
log "board fixture $fixture"
# What the board asks of this test: KEY=VALUE lines, read (never sourced).
fixture_opt() { sed -n "s/^$1=//p" "$fixture/provision-test.env" 2>/dev/null | tail -n 1; }
plugin_swap=false
case $(fixture_opt PLUGIN_SWAP) in
yes) plugin_swap=true ;;
'' | no) ;;
*) fail "$fixture/provision-test.env: PLUGIN_SWAP must be yes or no" ;;
esac
log "board asks for a plugin swap: $plugin_swap"
# JetPack 4 on a Debian rootfs: the glibc and systemd the role must plan for, the runtime it must
# pick, and the distribution's cmake (a double) that is too old.
assume_glibc=$(fixture_opt ASSUME_GLIBC)
assume_systemd=$(fixture_opt ASSUME_SYSTEMD)
expect_runtime=$(fixture_opt EXPECT_RUNTIME)
expect_runtime=${expect_runtime:-node}
distro_cmake=$(fixture_opt DISTRO_CMAKE)
case $expect_runtime in node | bun) ;; *) fail "$fixture/provision-test.env: EXPECT_RUNTIME must be node or bun" ;; esac
if [ -n "$distro_cmake" ] && [ ! -x "$REPO/test/fixtures/bin/cmake-$distro_cmake" ]; then
	fail "$fixture/provision-test.env: no cmake double test/fixtures/bin/cmake-$distro_cmake"
fi
log "board: runtime $expect_runtime, glibc ${assume_glibc:-as the target}, systemd ${assume_systemd:-as the target}, distro cmake ${distro_cmake:-as the target}"
# What the build must have been told for this board, known from the board, not from the agent.
if [ "$plugin_swap" = true ]; then
	expect_archs=$(fixture_opt PLUGIN_GPU_ARCHS)
	expect_cuda=$(fixture_opt PLUGIN_CUDA_VERSION)
	if [ -z "$expect_archs" ] || [ -z "$expect_cuda" ]; then
		fail "$fixture/provision-test.env: PLUGIN_SWAP=yes needs PLUGIN_GPU_ARCHS and PLUGIN_CUDA_VERSION"
	fi
fi
# The plugin build needs cmake, make and a C compiler on the board (JetPack has them); a board
# with a too-old distro cmake gets the target's real one as its controller-side tarball.
if [ "$plugin_swap" = true ] || [ -n "$distro_cmake" ]; then INCLUDE=$INCLUDE,cmake,make,gcc,libc6-dev; fi

# ---- rootfs (cached) ------------------------------------------------------------------------
arch=$(dpkg --print-architecture)
key=$(printf '%s %s %s %s' "$mirror" "$SUITE" "$INCLUDE" "$arch" | sha256sum | cut -c1-12)
cached=$CACHE/rootfs-$SUITE-$arch-$key.tar.gz
mkdir -p "$CACHE"
if [ -f "$cached" ]; then
	log "rootfs from cache $cached"
	mkdir "$ROOTFS"
	tar -C "$ROOTFS" --numeric-owner -xzf "$cached"
else
	log "debootstrap $SUITE ($INCLUDE) — first run, cached afterwards"
	debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$ROOTFS" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
		{ tail -n 30 "$WORK/debootstrap.log" >&2; fail "debootstrap failed"; }
	rm -rf "$ROOTFS/var/cache/apt/archives/"*.deb
	tar -C "$ROOTFS" --numeric-owner -czf "$cached.tmp" . && mv "$cached.tmp" "$cached"
	log "rootfs cached as $cached ($(du -h "$cached" | cut -f1))"
fi

# The fixture's proc/device-tree is what the role reads (copied, then shown in the /proc below).
for part in etc proc sys usr; do
	[ ! -d "$fixture/$part" ] || cp -a "$fixture/$part/." "$ROOTFS/$part/"
done
serial=$(tr -d '\000' <"$ROOTFS/proc/device-tree/serial-number")
soc=$(tr '\000' '\n' <"$fixture/proc/device-tree/compatible" | sed -n 's/^nvidia,\(tegra[0-9]*\)$/\1/p' | head -n 1)

# A board always has a procfs: Bun aborts at start without one (docs/architecture.md "Runtimes"),
# and root's `plugin install --last-build` reads the agent's build beneath pinned directory
# handles through /proc/self/fd (agent/src/platform/owned-subdir.ts). So every board's /proc is a
# tmpfs holding the fixture's device tree plus links to a real procfs for everything else
# (/proc/self → .host/self → .host/<pid>). On x86 the real procfs has no device-tree, so nothing
# of the board is shadowed.
mount -t tmpfs -o mode=0755 board-proc "$ROOTFS/proc"
cp -a "$fixture/proc/." "$ROOTFS/proc/"
mkdir "$ROOTFS/proc/.host"
mount -t proc proc "$ROOTFS/proc/.host"
for entry in "$ROOTFS/proc/.host/"*; do
	name=${entry##*/}
	case $name in [0-9]*) continue ;; esac
	[ -e "$ROOTFS/proc/$name" ] || ln -s ".host/$name" "$ROOTFS/proc/$name"
done
log "board /proc: fixture device tree + host procfs links"

# The distribution's cmake is too old on this board: a double in its place, and the target's
# real cmake as the Kitware-layout tarball (cmake-X.Y.Z-linux-<machine>/{bin,share}) the
# operator would hand the role.
if [ -n "$distro_cmake" ]; then
	real_cmake=$(chroot "$ROOTFS" cmake --version | sed -n 's/^cmake version \([0-9.]*\).*/\1/p')
	[ -n "$real_cmake" ] || fail "the target has no cmake to package"
	cmake_dir=cmake-$real_cmake-linux-$(uname -m)
	mkdir -p "$WORK/cmakepkg/$cmake_dir/bin" "$WORK/cmakepkg/$cmake_dir/share" "$WORK/dist"
	cp "$ROOTFS/usr/bin/cmake" "$WORK/cmakepkg/$cmake_dir/bin/cmake"
	cp -a "$ROOTFS/usr/share/cmake-${real_cmake%.*}" "$WORK/cmakepkg/$cmake_dir/share/"
	cmake_tarball=$WORK/dist/$cmake_dir.tar.gz
	tar -C "$WORK/cmakepkg" -czf "$cmake_tarball" "$cmake_dir"
	install -m 0755 "$REPO/test/fixtures/bin/cmake-$distro_cmake" "$ROOTFS/usr/bin/cmake"
	log "distro cmake: $(chroot "$ROOTFS" cmake --version | head -n 1) (double); tarball $cmake_dir"
fi

# ---- the board's TensorRT plugin library (when the board asks for a swap) -----------------
# The fixture carries the text parts (NvInferVersion.h, CUDA version.json, ld.so.conf.d); the
# stock library is compiled here by the target's own gcc, for the machine this test runs on:
# the agent refuses a candidate of another machine type and load-checks the swap with dlopen.
# Like the real package's library it lacks BatchTilePlugin_TRT (the reason for the swap).
LIBDIR=/usr/lib/aarch64-linux-gnu
if [ "$plugin_swap" = true ]; then
	hdr=$ROOTFS/usr/include/aarch64-linux-gnu/NvInferVersion.h
	trt_part() { sed -n "s/^#define NV_TENSORRT_$1 \([0-9]*\).*/\1/p" "$hdr"; }
	trt_major=$(trt_part MAJOR)
	trt=$trt_major.$(trt_part MINOR).$(trt_part PATCH)
	[ "$trt_major" -gt 0 ] 2>/dev/null || fail "$hdr: no TensorRT version"
	stock=libnvinfer_plugin.so.$trt
	mkdir -p "$ROOTFS$LIBDIR" "$ROOTFS/usr/local/src/nvinfer-plugin-stock"
	cat >"$ROOTFS/usr/local/src/nvinfer-plugin-stock/stock.c" <<'EOF'
const char *creator_0(void) { return "BatchedNMS_TRT"; }
int initLibNvInferPlugins(void *logger, const char *ns) { (void)logger; (void)ns; return 1; }
const char jetson_fixture_build_info[] = "stock";
EOF
	in_target_sh() { chroot "$ROOTFS" /bin/sh -c "$1"; }
	in_target_sh "gcc -shared -fPIC -Wl,-soname,libnvinfer_plugin.so.$trt_major -o $LIBDIR/$stock /usr/local/src/nvinfer-plugin-stock/stock.c" ||
		fail "compiling the stock plugin library in the target failed"
	rm -rf "$ROOTFS/usr/local/src/nvinfer-plugin-stock"
	ln -sfn "$stock" "$ROOTFS$LIBDIR/libnvinfer_plugin.so.$trt_major"
	ln -sfn "libnvinfer_plugin.so.$trt_major" "$ROOTFS$LIBDIR/libnvinfer_plugin.so"
	in_target_sh ldconfig
	stock_sha=$(sha256sum "$ROOTFS$LIBDIR/$stock" | cut -d' ' -f1)
	# The TensorRT-OSS-shaped tree has no CUDA code: nvcc is only asked for --version.
	install -D -m 0755 "$REPO/test/fixtures/bin/nvcc-double" "$ROOTFS/usr/local/cuda/bin/nvcc"
	log "stock $LIBDIR/$stock (sha256 ${stock_sha:0:12}…), TensorRT $trt"
fi

# ---- artifacts the operator would have on the controller ------------------------------------
case $(uname -m) in x86_64) narch=x64 ;; aarch64) narch=arm64 ;; *) fail "unsupported arch $(uname -m)" ;; esac
mkdir -p "$WORK/dist"
log "release tarball (scripts/make-release.mjs --arch $narch)"
release=$(node "$REPO/scripts/make-release.mjs" --arch "$narch" --out "$WORK/dist")
# An official-layout Node tarball (node-vX-linux-<arch>/bin/node) made from this machine's
# Node: the board gets Node from the controller, never from the network.
nver=$(node -p process.versions.node)
ndir=node-v$nver-linux-$narch
mkdir -p "$WORK/nodepkg/$ndir/bin"
cp "$(command -v node)" "$WORK/nodepkg/$ndir/bin/node"
tar -C "$WORK/nodepkg" -czf "$WORK/dist/$ndir.tar.gz" "$ndir"
# The TensorRT OSS source an offline board gets, as a GitHub archive (one top-level dir):
# the TensorRT-OSS-shaped CMake fixture with the board's own NvInferVersion.h (the OSS tree
# of a release carries that release's header; SONAME and file name follow from it).
if [ "$plugin_swap" = true ]; then
	osstree=$WORK/oss/TensorRT-release-${trt%.*}
	mkdir -p "$WORK/oss"
	# The fixture tree shaped like the board's branch (docs/reference/tensorrt-oss-trees.md).
	case $trt_major in
	7) shape="release-7.1" ;;
	8) shape="release-8.6" ;;
	10) shape="release-10.3" ;;
	*) shape=main ;;
	esac
	cp -a "$REPO/test/fixtures/trt-oss/$shape" "$osstree"
	cp "$hdr" "$osstree/include/NvInferVersion.h"
	oss_tarball=$WORK/dist/TensorRT-release-${trt%.*}.tar.gz
	tar -C "$WORK/oss" -czf "$oss_tarball" "$(basename "$osstree")"
fi

# Run the agent's detect through the role once the detect command exists (board feature).
cli_detect=false
if node "$REPO/agent/dist/main.js" detect --help >/dev/null 2>&1; then cli_detect=true; fi
log "jetson-agent detect available: $cli_detect"

cat >"$WORK/inventory.yml" <<EOF
jetsons:
  hosts:
    board:
      ansible_connection: community.general.chroot
      ansible_host: $ROOTFS
      ansible_python_interpreter: /usr/bin/python3
EOF
cat >"$WORK/vars.yml" <<EOF
jetson_agent_release_tarball: $release
jetson_agent_groups: [ci, orin-nano]
jetson_agent_mqtt_url: mqtt://127.0.0.1:1883
jetson_agent_mqtt_auth: password
jetson_agent_mqtt_password: "ci-secret-&-pw"
jetson_agent_fleet_public_keys:
  - keyId: ci-2026
    publicKey: GB_0QJphM3-hUG6wWfcO5bIUIaqMLa2ywxcOK1wMWbh
jetson_agent_model_keys:
  tlt-yolov3: nvidia_tlt
jetson_agent_cli_detect: $cli_detect
EOF
# A Bun board gets no Node tarball: the role must not need one.
if [ "$expect_runtime" = node ]; then echo "jetson_agent_node_tarball: $WORK/dist/$ndir.tar.gz" >>"$WORK/vars.yml"; fi
if [ -n "$assume_glibc" ]; then echo "jetson_agent_assume_glibc: \"$assume_glibc\"" >>"$WORK/vars.yml"; fi
if [ -n "$assume_systemd" ]; then echo "jetson_agent_assume_systemd: \"$assume_systemd\"" >>"$WORK/vars.yml"; fi
if [ -n "$distro_cmake" ]; then echo "jetson_agent_cmake_tarball: $cmake_tarball" >>"$WORK/vars.yml"; fi
if [ "$plugin_swap" = true ]; then
	cat >>"$WORK/vars.yml" <<EOF
jetson_agent_plugin_build: true
jetson_agent_plugin_install: true
jetson_agent_plugin_source_tarball: $oss_tarball
EOF
fi

play() {
	ANSIBLE_CONFIG=$REPO/ansible/ansible.cfg ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 \
		ansible-playbook -i "$WORK/inventory.yml" -e "@$WORK/vars.yml" "$@" "$REPO/ansible/site.yml"
}
recap() { grep -E '^board +: ' "$1" | tail -n 1; }
count() { recap "$1" | sed -n "s/.*$2=\([0-9]*\).*/\1/p"; }

# ---- run 1 -------------------------------------------------------------------------------
log "ansible-playbook run 1"
play >"$WORK/run1.log" 2>&1 || { tail -n 60 "$WORK/run1.log" >&2; fail "run 1 failed"; }
log "run 1: $(recap "$WORK/run1.log")"
[ "$(count "$WORK/run1.log" failed)" = 0 ] || fail "run 1 has failures"
[ "$(count "$WORK/run1.log" changed)" -gt 0 ] || fail "run 1 changed nothing on a fresh rootfs"
grep -q 'systemd is not running on board' "$WORK/run1.log" || fail "start not skipped cleanly in the chroot"

# ---- assertions --------------------------------------------------------------------------
errors=0
check() {
	if eval "$2"; then log "ok   $1"; else log "FAIL $1"; errors=$((errors + 1)); fi
}
# Names resolved by the target's passwd/group, not this machine's.
owner_mode() { chroot "$ROOTFS" stat -c '%U:%G %a' "$1" 2>/dev/null; }
in_root() { chroot "$ROOTFS" "$@"; }

check "/etc/jetson-agent root:root 755" '[ "$(owner_mode /etc/jetson-agent)" = "root:root 755" ]'
check "config.yaml root:jetson-agent 640" '[ "$(owner_mode /etc/jetson-agent/config.yaml)" = "root:jetson-agent 640" ]'
check "keys.yaml root:jetson-agent 640" '[ "$(owner_mode /etc/jetson-agent/keys.yaml)" = "root:jetson-agent 640" ]'
check "keys.yaml holds the model key" 'grep -q "^tlt-yolov3: nvidia_tlt$" "$ROOTFS/etc/jetson-agent/keys.yaml"'
check "provisioning inputs root-only" '[ "$(owner_mode /etc/jetson-agent/provision)" = "root:root 700" ] && [ "$(owner_mode /etc/jetson-agent/provision/fleet.env)" = "root:root 600" ]'
check "state dir jetson-agent 750" '[ "$(owner_mode /var/lib/jetson-agent)" = "jetson-agent:jetson-agent 750" ]'
check "plugin request dir owned by the agent" '[ "$(owner_mode /var/lib/jetson-agent/plugin)" = "jetson-agent:jetson-agent 750" ]'
check "user jetson-agent in video, no login shell" 'in_root id -nG jetson-agent | grep -qw video && [ "$(in_root getent passwd jetson-agent | cut -d: -f7)" = /usr/sbin/nologin ]'
if [ "$expect_runtime" = node ]; then
	check "/opt/node -> unpacked Node $nver" '[ "$(readlink "$ROOTFS/opt/node")" = "/opt/$ndir" ] && [ "$(in_root /opt/node/bin/node --version)" = "v$nver" ]'
else
	check "no Node installed on a Bun board (/opt/node absent)" '[ ! -e "$ROOTFS/opt/node" ]'
fi
check "role chose the $expect_runtime runtime" 'grep -q "runtime=$expect_runtime " "$WORK/run1.log"'
check "/etc/jetson-agent/runtime says $expect_runtime (root 644)" '[ "$(cat "$ROOTFS/etc/jetson-agent/runtime")" = "$expect_runtime" ] && [ "$(owner_mode /etc/jetson-agent/runtime)" = "root:root 644" ]'
# What runs the agent in the target, asked of the agent itself (as its user).
runtime_seen=$(chroot --userspec=jetson-agent:jetson-agent "$ROOTFS" /usr/local/bin/jetson-agent version --json 2>"$WORK/version.err" |
	python3 -c 'import json, sys; r = json.load(sys.stdin)["runtime"]; print(r["name"], r["version"])' 2>&1 || cat "$WORK/version.err")
bun_pin=$(node -p 'require(process.argv[1]).optionalDependencies["@oven/bun-linux-" + (process.arch === "arm64" ? "aarch64" : "x64")]' "$REPO/package.json")
if [ "$expect_runtime" = bun ]; then expect_seen="bun $bun_pin"; else expect_seen="node $nver"; fi
check "jetson-agent version in the target runs on $expect_seen ($runtime_seen)" '[ "$runtime_seen" = "$expect_seen" ]'
check "/opt/jetson-agent/current -> release" '[ "$(readlink "$ROOTFS/opt/jetson-agent/current")" = "/opt/jetson-agent/releases/$(basename "$release" .tar.gz)" ]'
check "release files root-owned" '[ -z "$(find "$ROOTFS/opt/jetson-agent/releases" ! -user root -print -quit)" ]'
# shellcheck disable=SC2034 # used in check conditions, evaluated later
newer_than_237='^(PrivateMounts|ProtectHostname|RestrictSUIDSGID|ProtectKernelLogs|ProtectClock|ProtectProc)='
for u in jetson-agent.service jetson-agent-plugin.service jetson-agent-plugin.path; do
	if [ "$assume_systemd" = 237 ]; then
		# Written for systemd 237: systemd/$u without what 237 lacks (docs/reference/systemd-versions.md).
		check "$u installed 644 for systemd 237: no directive newer than 237, no @system-service" '[ "$(owner_mode /etc/systemd/system/$u)" = "root:root 644" ] &&
			! grep -Eq "$newer_than_237" "$ROOTFS/etc/systemd/system/$u" && ! grep -q "^SystemCallFilter=@system-service" "$ROOTFS/etc/systemd/system/$u"'
		check "$u for 237 is systemd/$u apart from those lines" 'diff <(tail -n +2 "$ROOTFS/etc/systemd/system/$u" | grep -Ev "^(# .*: left out, needs systemd [0-9]+ .*|# SystemCallFilter=@system-service needs .*|SystemCallFilter=~.*)$") \
			<(grep -Ev "$newer_than_237|^SystemCallFilter=@system-service$" "$REPO/systemd/$u") >/dev/null'
	else
		check "$u installed 644, same as systemd/$u" '[ "$(owner_mode /etc/systemd/system/$u)" = "root:root 644" ] && tail -n +2 "$ROOTFS/etc/systemd/system/$u" | cmp -s - "$REPO/systemd/$u"'
	fi
done
check "the agent unit starts the release's launcher" 'grep -qx "ExecStart=/opt/jetson-agent/current/bin/jetson-agent run --config /etc/jetson-agent/config.yaml" "$ROOTFS/etc/systemd/system/jetson-agent.service"'
check "jetson-agent.service enabled" '[ "$(in_root systemctl is-enabled jetson-agent.service)" = enabled ]'
check "jetson-agent-plugin.path enabled" '[ "$(in_root systemctl is-enabled jetson-agent-plugin.path)" = enabled ]'
verify_out=$(systemd-analyze verify --man=no --root="$ROOTFS" jetson-agent.service jetson-agent-plugin.service jetson-agent-plugin.path 2>&1) || true
check "units verify clean in the target tree" '[ -z "$verify_out" ]'
[ -z "$verify_out" ] || printf '%s\n' "$verify_out" >&2

# The agent user itself must be able to load the config (group-readable, not world-readable).
printed=$(chroot --userspec=jetson-agent:jetson-agent "$ROOTFS" /usr/local/bin/jetson-agent config print --json --config /etc/jetson-agent/config.yaml 2>"$WORK/print.err") ||
	{ cat "$WORK/print.err" >&2; printed=''; }
check "jetson-agent config print (as jetson-agent, in the target) succeeds" '[ -n "$printed" ]'
cfg_check=$(printf '%s' "$printed" | python3 -c '
import json, sys
c = json.load(sys.stdin)["config"]
assert c["deviceId"] == "jetson-'"$serial"'", c["deviceId"]
assert c["groups"] == ["ci", "orin-nano"], c["groups"]
assert c["mqtt"]["url"] == "mqtt://127.0.0.1:1883"
assert c["mqtt"]["password"] != "ci-secret-&-pw", "password not redacted"
assert c["rollout"]["fleetPublicKeys"] == [{"keyId": "ci-2026", "publicKey": "GB_0QJphM3-hUG6wWfcO5bIUIaqMLa2ywxcOK1wMWbh"}]
assert c["models"]["keyringPath"] == "/etc/jetson-agent/keys.yaml"
print("ok")' 2>&1 || true)
check "config: device id from the module serial, fleet parameters, password redacted ($cfg_check)" '[ "$cfg_check" = ok ]'
check "other users cannot read the config" '! chroot --userspec=nobody:nogroup "$ROOTFS" cat /etc/jetson-agent/config.yaml >/dev/null 2>&1'
check "jetson-agent CLI wrapper 755" '[ "$(owner_mode /usr/local/bin/jetson-agent)" = "root:root 755" ]'
# Default off: the target has no TensorRT to build the runner against.
check "the TensorRT runner build stayed off (jetson_agent_build_runner default)" 'grep -A1 "TASK \[jetson_agent : Build the TensorRT runner\]" "$WORK/run1.log" | grep -q "^skipping: \[board\]"'
if [ "$cli_detect" = true ]; then
	check "role ran jetson-agent detect ($soc from the fixture)" 'grep -q "jetson-agent detect: .*soc=$soc" "$WORK/run1.log"'
fi
if [ -n "$distro_cmake" ]; then
	check "cmake $real_cmake from the tarball at /usr/local/bin/cmake (the board's $distro_cmake is too old)" '[ "$(readlink "$ROOTFS/usr/local/bin/cmake")" = "/opt/$cmake_dir/bin/cmake" ] &&
		in_root /usr/local/bin/cmake --version | grep -q "^cmake version $real_cmake"'
	detected_cmake=$(in_root /usr/local/bin/jetson-agent detect --json 2>/dev/null | python3 -c 'import json, sys; c = json.load(sys.stdin)["cmake"]; print(c["version"], c["path"])' 2>&1 || true)
	check "jetson-agent detect in the target sees that cmake ($detected_cmake)" '[ "$detected_cmake" = "$real_cmake /usr/local/bin/cmake" ]'
fi
# The launcher on a board no runtime fits: getconf (a double here, on PATH first) reports glibc 2.16.
mkdir -p "$ROOTFS/tmp/getconf-double"
printf '#!/bin/sh\n# getconf double (test/provision/run.sh): glibc 2.16, 64-bit\ncase $1 in LONG_BIT) echo 64 ;; GNU_LIBC_VERSION) echo "glibc 2.16" ;; *) exit 1 ;; esac\n' >"$ROOTFS/tmp/getconf-double/getconf"
chmod 755 "$ROOTFS/tmp/getconf-double/getconf"
old_glibc=$(chroot "$ROOTFS" env PATH=/tmp/getconf-double:/usr/local/bin:/usr/bin:/bin /usr/local/bin/jetson-agent version 2>&1 || true)
# shellcheck disable=SC2034 # used in check conditions, evaluated later
board_model=$(tr -d '\000' <"$fixture/proc/device-tree/model")
check "the launcher refuses glibc 2.16 with RUNTIME_UNSUPPORTED naming the board ($old_glibc)" 'case $old_glibc in "jetson-agent: RUNTIME_UNSUPPORTED: $board_model ($(uname -m)) has glibc 2.16: the agent needs glibc >= 2.27"*) true ;; *) false ;; esac'
rm -rf "$ROOTFS/tmp/getconf-double"

# ---- plugin swap, seen from inside the target ------------------------------------------------
plugin_state() { in_root /usr/local/bin/jetson-agent plugin status --state-dir /var/lib/jetson-agent --json 2>>"$WORK/plugin-status.err"; }
if [ "$plugin_swap" = true ]; then
	lib=$LIBDIR/$stock
	lib_sha=$(sha256sum "$ROOTFS$lib" | cut -d' ' -f1)
	plugin_check=$(plugin_state | python3 -c '
import hashlib, json, sys
root, lib, stock_sha, lib_sha, branch, archs = sys.argv[1:7]
st = json.load(sys.stdin)
last = json.load(open(root + "/var/lib/jetson-agent/builds/last.json"))
art = json.load(open(root + last["dir"] + "/artifact.json"))
assert lib_sha != stock_sha, "the system library is still the stock one"
assert lib_sha == art["sha256"], "system library %s is not the build %s" % (lib_sha[:12], art["sha256"][:12])
assert st["library"] == lib and st["sha256"] == lib_sha, st
assert st["origin"] == "custom" and st["drift"] is False, (st["origin"], st["drift"], st["reason"])
assert st["builtFor"]["branch"] == branch and st["builtFor"]["arch"] == archs, st["builtFor"]
assert st["backup"]["sha256"] == stock_sha, "backup is not the stock library"
assert hashlib.sha256(open(root + st["backup"]["path"], "rb").read()).hexdigest() == stock_sha, "backup file differs"
print("ok")' "$ROOTFS" "$lib" "$stock_sha" "$lib_sha" "release/${trt%.*}" "$expect_archs" 2>&1 || true)
	check "plugin status in the target: custom build installed, verified, stock backed up ($plugin_check)" '[ "$plugin_check" = ok ]'
	[ "$plugin_check" = ok ] || cat "$WORK/plugin-status.err" >&2
	# The daemon's drift check and the plugin-status request run as the agent user: the records
	# and backup root wrote must be readable to it (and it must not try root's recovery).
	agent_view=$(chroot --userspec=jetson-agent:jetson-agent "$ROOTFS" /usr/local/bin/jetson-agent plugin status --state-dir /var/lib/jetson-agent --json 2>>"$WORK/plugin-status.err" |
		python3 -c 'import json, sys; st = json.load(sys.stdin); print("ok" if st["origin"] == "custom" and st["drift"] is False and st["backup"] else st)' 2>&1 || true)
	check "plugin status as the jetson-agent user sees the custom build and the backup ($agent_view)" '[ "$agent_view" = ok ]'
	check "the build ran as jetson-agent (builds owned by the agent)" '[ "$(owner_mode /var/lib/jetson-agent/builds/last.json | cut -d" " -f1)" = "jetson-agent:jetson-agent" ]'
	check "dpkg diversion of $lib registered in the target" 'in_root dpkg-divert --list "$lib" | grep -q "jetson-agent-diverted"'
	# The loader, through the target's ld.so.cache (the lib dir is no default path on this
	# machine), resolves the SONAME to the new build, built for this board.
	cached_path=$(in_root ldconfig -p | sed -n "s/^[[:space:]]*libnvinfer_plugin\.so\.$trt_major (.*) => //p" | head -n 1)
	check "ld.so.cache resolves libnvinfer_plugin.so.$trt_major ($cached_path) to the new build" '[ -n "$cached_path" ] && [ "$(in_root readlink -f "$cached_path")" = "$lib" ]'
	loaded=$(in_root python3 -c '
import ctypes, sys
lib = ctypes.CDLL(sys.argv[1])
print(ctypes.string_at(ctypes.addressof(ctypes.c_char.in_dll(lib, "jetson_fixture_build_info"))).decode())' "libnvinfer_plugin.so.$trt_major" 2>&1 || true)
	check "dlopen(libnvinfer_plugin.so.$trt_major) in the target loads the new build ($loaded)" '[ "$loaded" = "jetson-fixture:tensorrt=$trt;gpu_archs=$expect_archs;cuda=$expect_cuda;platform=aarch64" ]'
fi

# ---- run 2: idempotence -------------------------------------------------------------------
log "ansible-playbook run 2 (idempotence)"
play >"$WORK/run2.log" 2>&1 || { tail -n 60 "$WORK/run2.log" >&2; fail "run 2 failed"; }
log "run 2: $(recap "$WORK/run2.log")"
if [ "$(count "$WORK/run2.log" changed)" != 0 ]; then
	grep -E '^changed:' -B2 "$WORK/run2.log" >&2 || true
	check "run 2 changed=0" false
else
	check "run 2 changed=0" true
fi

if [ "$plugin_swap" = true ]; then
	check "run 2 skipped the plugin build and swap (state checked first)" 'grep -A1 "TASK \[jetson_agent : Build the TensorRT OSS plugin\]" "$WORK/run2.log" | grep -q "^skipping: \[board\]"'
	check "run 2 left the swapped library as it was" '[ "$(sha256sum "$ROOTFS$lib" | cut -d" " -f1)" = "$lib_sha" ]'
fi

# ---- run 3: --check reports nothing to do ------------------------------------------------
log "ansible-playbook --check --diff"
play --check --diff >"$WORK/run3.log" 2>&1 || { tail -n 60 "$WORK/run3.log" >&2; fail "check run failed"; }
check "--check run changed=0" '[ "$(count "$WORK/run3.log" changed)" = 0 ]'

# ---- target checks fail clearly --------------------------------------------------------
# Same rootfs, other boards: one whose glibc no runtime fits (planned for 2.16), and no Jetson
# at all. The play must stop in the preflight with the operator-facing message.
if play -e jetson_agent_assume_glibc=2.16 >"$WORK/oldglibc.log" 2>&1; then check "a board with glibc 2.16 is refused" false; else
	check "a board with glibc 2.16 is refused with RUNTIME_UNSUPPORTED naming it, its glibc and what is needed" 'grep -q "RUNTIME_UNSUPPORTED: board ($board_model, L4T [0-9.]*) has glibc 2.16: the agent needs glibc >= 2.27 on a 64-bit userspace" "$WORK/oldglibc.log"'
fi
mv "$ROOTFS/proc/device-tree/compatible" "$WORK/compatible"
if play >"$WORK/nonjetson.log" 2>&1; then check "a non-Jetson target is refused" false; else
	check "a non-Jetson target is refused with the reason" 'grep -q "is not a Jetson" "$WORK/nonjetson.log"'
fi
mv "$WORK/compatible" "$ROOTFS/proc/device-tree/compatible"

[ "$errors" = 0 ] || fail "$errors assertion(s) failed (logs in $WORK with KEEP_ROOTFS=1)"
log "PASS in $(($(date +%s) - T0))s"
