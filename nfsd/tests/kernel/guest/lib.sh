# lib.sh: what the guest scripts (suite.sh, cluster.sh) share: mount options per NFS version
# and the check machinery ("ok - NAME", "not ok - NAME: why", the summary line). Sourced.

# vers_opts PORT MOUNTPORT: mount options for $NFS_VERS against a server on PORT
vers_opts() {
    local port=$1 mport=$2 o
    case $NFS_VERS in
        3) o="vers=3,proto=tcp,port=$port,mountproto=tcp,mountport=$mport,nolock" ;;
        4.0) o="vers=4.0,port=$port,clientaddr=0.0.0.0" ;;
        4.1|4.2) o="vers=$NFS_VERS,port=$port" ;;
        bare) o="port=$port" ;;
        *) echo "NFS_VERS must be 3, 4.0, 4.1, 4.2 or bare, not '$NFS_VERS'" >&2; return 2 ;;
    esac
    echo "$o${NFS_EXTRA_OPTS:+,$NFS_EXTRA_OPTS}"
}
v4() { [ "$NFS_VERS" != 3 ]; }
LOGS=${LOGS:-/tmp/suite}
mkdir -p "$LOGS"

passed=0 failed=0 skipped=0 failed_names=()
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1fs", b-a}'; }

# ---- helpers used inside checks (each check runs in a subshell; fail ends it) ----
fail() { printf '%s\n' "$*" > "$WHYF"; exit 1; }
# skip_now WHY: end the check as skipped (a feature the server may legitimately refuse)
skip_now() { printf '%s\n' "$*" > "$WHYF.skip"; exit 0; }
# must CMD...: run, fail with its output if it fails
must() { local o; o=$("$@" 2>&1) || fail "'$*' failed: $(printf '%s' "$o" | tail -n 3 | tr '\n' ' ')"; }
# eq ACTUAL EXPECTED WHAT
eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }
# refused MSG CMD...: CMD must fail and its output must contain MSG
refused() {
    local msg=$1 o; shift
    if o=$("$@" 2>&1); then fail "'$*' succeeded, expected '$msg'"; fi
    case $o in *"$msg"*) ;; *) fail "'$*' failed with '$(printf '%s' "$o" | tail -n 1)', expected '$msg'" ;; esac
}
# py 'python statements': for exact errno checks
py() { python3 -c "import os, errno, sys; $1"; }
mnt() { mount -t nfs -o "$OPTS${2:+,$2}" "$NFS_SERVER:$1" "$3"; }
# remount: drop the client's caches of the root export (the caller must not sit in the mount)
remount() { umount "$MNT" && mnt "$ROOT_EXPORT" "" "$MNT"; }
as_user() { local u=$1; shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }

selected() {
    local n=$1
    case " $SKIP " in *" $n "*) return 1 ;; esac
    [ -z "$ONLY" ] && return 0
    case " $ONLY " in *" $n "*) return 0 ;; esac
    return 1
}
skip() { selected "$1" || return 0; echo "ok - $1 # SKIP $2"; skipped=$((skipped + 1)); }
# check NAME FUNCTION
check() {
    local name=$1 fn=$2 t0 rc
    selected "$name" || return 0
    WHYF=$LOGS/$name.why; rm -f "$WHYF" "$WHYF.skip"
    t0=$(now)
    ( cd / && "$fn" ) > "$LOGS/$name.log" 2>&1
    rc=$?
    local dt; dt=$(secs "$t0" "$(now)")
    # lines "time: ..." in a check's log are phase timings: shown under its result
    local phases; phases=$(grep '^time: ' "$LOGS/$name.log" | sed 's/^time: /#   /')
    if [ $rc = 0 ] && [ -s "$WHYF.skip" ]; then
        echo "ok - $name # SKIP $(head -c 300 "$WHYF.skip" | tr '\n' ' ')[$dt]"; skipped=$((skipped + 1))
    elif [ $rc = 0 ]; then
        echo "ok - $name [$dt]"; passed=$((passed + 1))
    else
        local why="exit status $rc"
        [ -s "$WHYF" ] && why=$(head -c 600 "$WHYF" | tr '\n' ' ')
        echo "not ok - $name: $why [$dt]"
        tail -n 8 "$LOGS/$name.log" | sed 's/^/#   /'
        failed=$((failed + 1)); failed_names+=("$name")
    fi
    [ -z "$phases" ] || printf '%s\n' "$phases"
}
finish() {
    [ $failed -gt 0 ] && echo "# failed: ${failed_names[*]}"
    echo "# skipped: $skipped"
    echo "$passed passed, $failed failed"
    [ $failed = 0 ]
    exit
}

