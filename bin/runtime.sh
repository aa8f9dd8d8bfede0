# shellcheck shell=sh
# Sourced by bin/jetson-agent and bin/jetson-agent-plugin-helper: picks the JavaScript runtime
# this board can run and execs an entry script of the release with it (docs/provisioning.md
# "Runtimes"). POSIX sh: it runs before any runtime is known to work.
#
#   Node.js >= 20 where glibc >= 2.28 (JetPack 5/6/7): /opt/node/bin/node, else node on PATH.
#   Bun where glibc is older (JetPack 4, glibc 2.27): the release's own pinned copy,
#     node_modules/@oven/bun-linux-<arch>/bin/bun, else bun on PATH.
#
# The choice: $JETSON_AGENT_RUNTIME (node, bun or an executable's path), else the one word in
# /etc/jetson-agent/runtime (the Ansible role writes it), else automatic by glibc. Whatever
# the choice, a 32-bit userspace, a C library other than glibc, or a glibc older than the
# release's native modules need stops here with RUNTIME_UNSUPPORTED (docs/errors.md).

# glibc versions: the release's native modules need NATIVE (onnxruntime-node 1.22's
# libonnxruntime needs GLIBC_2.27; the table and its test: docs/provisioning.md "glibc audit"),
# Bun's own binary needs BUN, official Node.js >= 18 binaries need NODE (nodejs/node#42659).
JA_NATIVE_MIN_GLIBC=2.27
JA_BUN_MIN_GLIBC=2.17
JA_NODE_MIN_GLIBC=2.28
JA_RUNTIME_FILE=/etc/jetson-agent/runtime

# ja_version_ge A B: A >= B for MAJOR.MINOR versions.
ja_version_ge() {
	ja_a1=${1%%.*} ja_a2=${1#*.} ja_b1=${2%%.*} ja_b2=${2#*.}
	ja_a2=${ja_a2%%.*} ja_b2=${ja_b2%%.*}
	[ "$ja_a1" -gt "$ja_b1" ] || { [ "$ja_a1" -eq "$ja_b1" ] && [ "$ja_a2" -ge "$ja_b2" ]; }
}

# The board's name for messages: the device tree's model on a Jetson, else host and machine.
ja_board() {
	if [ -r /proc/device-tree/model ]; then
		printf '%s (%s)' "$(tr -d '\000' </proc/device-tree/model)" "$(uname -m)"
	else
		printf '%s (%s)' "$(uname -n)" "$(uname -m)"
	fi
}

# ja_fail CODE MESSAGE HINT: the agent CLI's error format (`jetson-agent: CODE: message hint`,
# exit 1, 2 for USAGE), plus {"error":…} on stdout when --json was asked for.
ja_fail() {
	printf '%s: %s: %s %s\n' "$JA_PROG" "$1" "$2" "$3" >&2
	if [ "$JA_JSON" = 1 ]; then
		printf '{"error":{"code":"%s","message":"%s","hint":"%s"}}\n' "$1" "$(printf '%s' "$2" | sed 's/["\\]/\\&/g')" "$(printf '%s' "$3" | sed 's/["\\]/\\&/g')"
	fi
	[ "$1" != USAGE ] || exit 2
	exit 1
}

# ja_exec PROG ENTRY ARGS...: ENTRY is relative to the release (the directory above bin/).
ja_exec() {
	JA_PROG=$1
	ja_entry=$2
	shift 2
	JA_JSON=0
	for ja_arg in "$@"; do [ "$ja_arg" = --json ] && JA_JSON=1; done
	ja_self=$(readlink -f "$0")
	ja_release=$(dirname "$(dirname "$ja_self")")

	ja_bits=$(getconf LONG_BIT 2>/dev/null || echo unknown)
	ja_glibc=$(getconf GNU_LIBC_VERSION 2>/dev/null | sed -n 's/^glibc //p')
	ja_libc_text=${ja_glibc:+glibc $ja_glibc}
	ja_needs="glibc >= $JA_NATIVE_MIN_GLIBC on a 64-bit userspace (its native modules; Bun needs glibc >= $JA_BUN_MIN_GLIBC, Node.js >= 20 needs >= $JA_NODE_MIN_GLIBC)"
	ja_hint='Run it on JetPack 4 or newer (Ubuntu 18.04, glibc 2.27, aarch64) or another 64-bit Linux with glibc 2.27 or newer; see docs/provisioning.md "Runtimes".'
	if [ "$ja_bits" != 64 ]; then
		ja_fail RUNTIME_UNSUPPORTED "$(ja_board) has a ${ja_bits}-bit userspace (${ja_libc_text:-no glibc}): the agent needs $ja_needs." "$ja_hint"
	fi
	if [ -z "$ja_glibc" ]; then
		ja_fail RUNTIME_UNSUPPORTED "$(ja_board) has no GNU C library (getconf GNU_LIBC_VERSION found none; musl?): the agent needs $ja_needs." "$ja_hint"
	fi
	if ! ja_version_ge "$ja_glibc" "$JA_NATIVE_MIN_GLIBC"; then
		ja_fail RUNTIME_UNSUPPORTED "$(ja_board) has glibc $ja_glibc: the agent needs $ja_needs." "$ja_hint"
	fi

	case $(uname -m) in
	aarch64) ja_bun_arch=aarch64 ;;
	x86_64) ja_bun_arch=x64 ;;
	*) ja_bun_arch= ;;
	esac
	ja_bun=
	if [ -n "$ja_bun_arch" ] && [ -x "$ja_release/node_modules/@oven/bun-linux-$ja_bun_arch/bin/bun" ]; then
		ja_bun=$ja_release/node_modules/@oven/bun-linux-$ja_bun_arch/bin/bun
	elif command -v bun >/dev/null 2>&1; then
		ja_bun=$(command -v bun)
	fi
	ja_node=
	if [ -x /opt/node/bin/node ]; then
		ja_node=/opt/node/bin/node
	elif command -v node >/dev/null 2>&1; then
		ja_node=$(command -v node)
	fi

	ja_choice=${JETSON_AGENT_RUNTIME:-}
	ja_from='JETSON_AGENT_RUNTIME'
	if [ -z "$ja_choice" ] && [ -r "$JA_RUNTIME_FILE" ]; then
		ja_choice=$(tr -d ' \t\r\n' <"$JA_RUNTIME_FILE")
		ja_from=$JA_RUNTIME_FILE
	fi
	case $ja_choice in
	'' | auto)
		if [ -n "$ja_node" ] && ja_version_ge "$ja_glibc" "$JA_NODE_MIN_GLIBC"; then
			ja_runtime=$ja_node
		elif [ -n "$ja_bun" ]; then
			ja_runtime=$ja_bun
		else
			ja_fail RUNTIME_NOT_FOUND "$(ja_board) has glibc $ja_glibc and no runtime for it: Bun (needs glibc >= $JA_BUN_MIN_GLIBC) is not in the release ($ja_release/node_modules/@oven/bun-linux-${ja_bun_arch:-?}) nor on PATH, and Node.js >= 20 (needs glibc >= $JA_NODE_MIN_GLIBC) is ${ja_node:-not installed}." \
				'Install the release built with its optional dependencies (npm ci without --omit=optional) or Node.js >= 20 at /opt/node; see docs/provisioning.md "Runtimes".'
		fi
		;;
	node)
		[ -n "$ja_node" ] || ja_fail RUNTIME_NOT_FOUND "$ja_from asks for Node.js, but neither /opt/node/bin/node nor node on PATH exists." 'Install Node.js >= 20 at /opt/node, or choose bun.'
		ja_runtime=$ja_node
		;;
	bun)
		[ -n "$ja_bun" ] || ja_fail RUNTIME_NOT_FOUND "$ja_from asks for Bun, but the release has no node_modules/@oven/bun-linux-${ja_bun_arch:-?}/bin/bun and bun is not on PATH." 'Install a release built with its optional dependencies (scripts/make-release.mjs), or choose node.'
		ja_runtime=$ja_bun
		;;
	/*)
		[ -x "$ja_choice" ] || ja_fail RUNTIME_NOT_FOUND "$ja_from names $ja_choice, which is not an executable file." 'Name node, bun or the absolute path of a runtime.'
		ja_runtime=$ja_choice
		;;
	*)
		ja_fail USAGE "$ja_from is \"$ja_choice\": expected node, bun, auto or an absolute path." 'Fix or remove it.'
		;;
	esac
	# The agent reads every JETSON_AGENT_* variable as configuration; this one is the launcher's.
	unset JETSON_AGENT_RUNTIME
	exec "$ja_runtime" "$ja_release/$ja_entry" "$@"
}
