#!/bin/bash
# suite.sh: checks with the Linux kernel client, over NFSv3, NFSv4.0, NFSv4.1 or whatever a bare
# mount negotiates. Runs inside the test guest as root (see nfsd/tests/kernel/run, which starts
# the server and the guest).
#
# Every check prints "ok - NAME [time]", "ok - NAME # SKIP why" or "not ok - NAME: why [time]"
# (then the last lines of its log, prefixed "#"). The last line is "N passed, M failed";
# the exit status is 1 when any check failed.
#
# Environment (defaults fit Cairn behind `guest-run --fwd 2049:PORT`):
#   NFS_VERS        3 (default), 4.0, 4.1, 4.2, or "bare" (no vers= option: the client picks)
#   NFS_SERVER      server name in the guest (default: host)
#   MOUNT_PORT      MOUNT protocol port seen by the guest (default 2049: Cairn serves MOUNT on its NFS port)
#   NFS_EXTRA_OPTS  extra mount options, e.g. noacl
#   ROOT_EXPORT     export that is rw, no_root_squash (default /)
#   SQUASH_EXPORT   export that is rw with root_squash (default /squash; empty: skip the squash checks)
#   SQUASH_DIR      where SQUASH_EXPORT appears inside ROOT_EXPORT (default: same path); it must be a
#                   directory of the same file system so the test can prepare files there as root
#   TREE_SRC        trees copied in for tree_copy (default: /usr/lib/python3.11 /usr/share/zoneinfo: ~31 MiB, ~2,500 entries)
#   BIGDIR_N        entries of the big directory (default 100000)
#   ONLY            space separated check names to run (default: all); SKIP: names to skip
#   KEEP=1          leave the work directory on the export
#   CLEANUP=quick   remove the work directory except the big directory (for throw-away servers)
NFS_SERVER=${NFS_SERVER:-host}
MOUNT_PORT=${MOUNT_PORT:-2049}
ROOT_EXPORT=${ROOT_EXPORT:-/}
SQUASH_EXPORT=${SQUASH_EXPORT-/squash}
SQUASH_DIR=${SQUASH_DIR:-$SQUASH_EXPORT}
TREE_SRC=${TREE_SRC:-/usr/lib/python3.11 /usr/share/zoneinfo}
BIGDIR_N=${BIGDIR_N:-100000}
ONLY=${ONLY:-}
SKIP=${SKIP:-}
NFS_VERS=${NFS_VERS:-3}
. "$(dirname "$0")/lib.sh"
OPTS=$(vers_opts 2049 "$MOUNT_PORT") || exit 2
MNT=/mnt/nfs
SQ=/mnt/squash
MNT2=/mnt/nfs2
W=$MNT/suite.$(date +%s).$$      # work directory on the export
mkdir -p "$MNT" "$SQ" "$MNT2"

# ---- the checks ------------------------------------------------------------------

c_mount() {
    must mnt "$ROOT_EXPORT" "" "$MNT"
    grep -qE " $MNT nfs4? " /proc/mounts || fail "not in /proc/mounts"
    local vers; vers=$(grep " $MNT nfs" /proc/mounts | grep -o 'vers=[0-9.]*' | head -n 1)
    echo "time: mounted with $vers"
    case $NFS_VERS in
        3) eq "$vers" vers=3 "negotiated version" ;;
        4.*) eq "$vers" "vers=$NFS_VERS" "negotiated version" ;;
        bare) case $vers in vers=4.*) ;; *) fail "a bare mount negotiated $vers, expected NFSv4" ;; esac ;;
    esac
    must mkdir "$W"
    echo hello > "$W/hello" || fail "cannot write $W/hello"
    eq "$(cat "$W/hello")" hello "read back"
}

meta() { (cd "$1" && find . \( -type l -printf '%p l %U %G -> %l\n' \) -o \( -type d -printf '%p d %m %U %G %T@\n' \) \
                   -o -printf '%p %y %m %U %G %s %T@\n' | sort); }
c_tree_copy() {
    local s d n=0
    must mkdir "$W/tree"
    for s in $TREE_SRC; do
        [ -d "$s" ] || continue
        d=$W/tree/$(echo "$s" | tr / _)
        cp -a "$s" "$d" 2> "$LOGS/cp.err" || fail "cp -a $s: $(wc -l < "$LOGS/cp.err") errors, first: $(head -n 1 "$LOGS/cp.err")"
        n=$((n + 1))
    done
    [ $n -gt 0 ] || fail "none of TREE_SRC exists"
    echo "time: copied: $(find "$W/tree" | wc -l) entries, $(du -sm "$W/tree" | cut -f1) MiB on the export"
    for s in $TREE_SRC; do
        [ -d "$s" ] || continue
        d=$W/tree/$(echo "$s" | tr / _)
        diff -r --no-dereference "$s" "$d" > "$LOGS/diff.out" 2>&1 || fail "diff -r $s (warm): $(head -n 2 "$LOGS/diff.out" | tr '\n' ' ')"
    done
}
c_tree_cold() {
    local s d
    [ -d "$W/tree" ] || fail "tree_copy did not run"
    must remount
    for s in $TREE_SRC; do
        [ -d "$s" ] || continue
        d=$W/tree/$(echo "$s" | tr / _)
        diff -r --no-dereference "$s" "$d" > "$LOGS/diff.out" 2>&1 || fail "diff -r $s after remount: $(head -n 2 "$LOGS/diff.out" | tr '\n' ' ')"
        # type, mode, owner, size, mtime (symlink mtimes not compared)
        diff <(meta "$s") <(meta "$d") > "$LOGS/meta.out" || fail "metadata of $s differs in $(grep -c '^<' "$LOGS/meta.out") entries: $(head -n 2 "$LOGS/meta.out" | tr '\n' ' ')"
    done
}

c_c_build() {
    local p=/tmp/cproj
    rm -rf "$p" && mkdir -p "$p/src"
    cat > "$p/src/util.h" <<'EOF'
int mul(int a, int b);
EOF
    cat > "$p/src/util.c" <<'EOF'
#include "util.h"
int mul(int a, int b) { return a * b; }
EOF
    cat > "$p/src/main.c" <<'EOF'
#include <stdio.h>
#include "util.h"
int main(void) { printf("hello from nfs %d\n", mul(6, 7)); return 0; }
EOF
    printf 'CFLAGS=-O2 -Wall\nall: hello\nhello: main.o util.o\n\t$(CC) -o $@ main.o util.o\n%%.o: src/%%.c src/util.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\nclean:\n\trm -f hello *.o\n' > "$p/Makefile"
    (cd /tmp && tar czf cproj.tgz cproj) || fail "tar czf"
    cd "$W" || fail "cd $W"
    must tar xzf /tmp/cproj.tgz
    cd cproj || fail "no cproj after untar"
    must make
    eq "$(./hello)" "hello from nfs 42" "program output"
    # nothing to rebuild: the mtimes the server keeps must be stable
    local o; o=$(make 2>&1)
    case $o in *"Nothing to be done"*|*"up to date"*) ;; *) fail "second make rebuilt: $o" ;; esac
    sleep 1.1; touch src/util.c
    o=$(make 2>&1) || fail "make after touch: $o"
    case $o in *util.o*) ;; *) fail "make after touch did not rebuild util.o: $o" ;; esac
    must make clean
    [ ! -e hello ] || fail "make clean left hello"
}

c_hardlinks() {
    local d=$W/links; must mkdir "$d"; cd "$d" || fail cd
    echo data > a
    must ln a b
    eq "$(stat -c %h a)" 2 "link count after ln"
    eq "$(stat -c %i b)" "$(stat -c %i a)" "inode of both names"
    must ln a c
    eq "$(stat -c %h b)" 3 "link count after second ln"
    must mv b d
    [ ! -e b ] || fail "b still exists after mv b d"
    eq "$(cat a)" data "content through a after rename"
    eq "$(cat d)" data "content through d"
    eq "$(stat -c %h a)" 3 "link count after rename"
    eq "$(stat -c %i d)" "$(stat -c %i a)" "inode after rename"
    must rm c
    eq "$(stat -c %h a)" 2 "link count after rm"
    must rm a
    eq "$(stat -c %h d)" 1 "link count of the last name"
    eq "$(cat d)" data "content through the last name"
    cd / && must remount
    eq "$(stat -c %h "$d/d")" 1 "link count after remount"
    # a hard link to a directory is refused
    mkdir "$d/dir"
    py "os.link('$d/dir', '$d/dirlink')" 2>/dev/null && fail "hard link to a directory succeeded"
    true
}

c_symlinks() {
    local d=$W/sym; must mkdir "$d"; cd "$d" || fail cd
    echo x > target
    must ln -s target l
    eq "$(readlink l)" target "readlink"
    eq "$(cat l)" x "read through symlink"
    eq "$(stat -c %F l)" "symbolic link" "type"
    must ln -s does/not/exist dangling
    eq "$(readlink dangling)" does/not/exist "readlink dangling"
    [ -L dangling ] && [ ! -e dangling ] || fail "dangling symlink: -L/-e wrong"
    refused "No such file" cat dangling
    mkdir dir && echo y > dir/f
    must ln -s dir ldir
    eq "$(cat ldir/f)" y "file through a symlink to a directory"
    eq "$(ls ldir/)" f "ls through a symlink to a directory"
    local long; long=$(printf 'x%.0s' $(seq 1 1000))
    must ln -s "$long" longlink
    eq "$(readlink longlink)" "$long" "1000-byte target"
    must ln -s ../sym/dir rel
    eq "$(cat rel/f)" y "relative symlink"
    cd / && must remount
    eq "$(readlink "$d/l")" target "readlink after remount"
    eq "$(readlink "$d/dangling")" does/not/exist "dangling after remount"
}

c_rename() {
    local d=$W/ren; must mkdir "$d"; cd "$d" || fail cd
    echo A > a; echo B > b
    must mv -T a b
    eq "$(cat b)" A "content after rename over a file"
    [ ! -e a ] || fail "source still exists after rename over a file"
    mkdir d1 d2 && echo x > d1/x
    must py "os.rename('d1', 'd2')"
    [ ! -e d1 ] || fail "source dir still exists after rename over an empty dir"
    eq "$(cat d2/x)" x "content after rename over an empty dir"
    mkdir e1 e2 && : > e2/y
    local o; o=$(py "
try:
    os.rename('e1', 'e2'); print('renamed')
except OSError as e: print(errno.errorcode[e.errno])" 2>&1)
    case $o in ENOTEMPTY|EEXIST) ;; *) fail "rename over a non-empty dir: $o (want ENOTEMPTY or EEXIST)" ;; esac
    [ -d e1 ] && [ -e e2/y ] || fail "rename over a non-empty dir changed the tree"
    : > f; mkdir g
    o=$(py "
try:
    os.rename('f', 'g'); print('renamed')
except OSError as e: print(errno.errorcode[e.errno])" 2>&1)
    eq "$o" EISDIR "rename file over dir"
    o=$(py "
try:
    os.rename('g', 'f'); print('renamed')
except OSError as e: print(errno.errorcode[e.errno])" 2>&1)
    eq "$o" ENOTDIR "rename dir over file"
    mkdir -p s1 s2 && echo z > s1/z
    must mv s1/z s2/z2
    eq "$(cat s2/z2)" z "rename across directories"
    must mv s2 s1/s2
    eq "$(cat s1/s2/z2)" z "directory moved into a sibling"
    o=$(py "
try:
    os.rename('s1', 's1/s2/inside'); print('renamed')
except OSError as e: print(errno.errorcode[e.errno])" 2>&1)
    eq "$o" EINVAL "rename a directory into itself"
    cd / && must remount
    eq "$(cat "$d/b")" A "after remount: b"
    eq "$(ls "$d" | tr '\n' ' ')" "b d2 e1 e2 f g s1 " "directory after remount"
}

c_fifo() {
    local d=$W/fifo; must mkdir "$d"
    must mkfifo "$d/p"
    eq "$(stat -c %F "$d/p")" fifo "type"
    timeout 30 head -n 1 "$d/p" > /tmp/fifo.out & local r=$!
    timeout 30 bash -c "echo through-the-fifo > '$d/p'" || fail "writer failed or timed out"
    wait $r || fail "reader failed or timed out"
    eq "$(cat /tmp/fifo.out)" through-the-fifo "line through the fifo"
    cd / && must remount
    eq "$(stat -c %F "$d/p")" fifo "type after remount"
}

c_devnode() {
    local d=$W/dev o; must mkdir "$d"
    # a server may refuse device nodes by policy (EPERM): reported as a skip, not a failure
    if ! o=$(mknod "$d/null" c 1 3 2>&1); then
        case $o in *"Operation not permitted"*) skip_now "the server refuses device nodes (EPERM)" ;; esac
        fail "mknod c 1 3: $o"
    fi
    eq "$(stat -c '%F %t,%T' "$d/null")" "character special file 1,3" "char device node"
    must mknod "$d/blk" b 8 1
    eq "$(stat -c '%F %t,%T' "$d/blk")" "block special file 8,1" "block device node"
    eq "$(echo x > "$d/null" && cat "$d/null" | wc -c)" 0 "the node works as /dev/null"
}

c_attrs() {
    local d=$W/attr f; must mkdir "$d"; f=$d/f
    echo -n hello > "$f"
    must chmod 0751 "$f"; eq "$(stat -c %a "$f")" 751 "mode"
    must chmod 4755 "$f"; eq "$(stat -c %a "$f")" 4755 "setuid mode"
    must chmod 0640 "$f"
    must chown 1000:1000 "$f"; eq "$(stat -c %u:%g "$f")" 1000:1000 "owner"
    must chown 1234:5678 "$f"; eq "$(stat -c %u:%g "$f")" 1234:5678 "owner (2)"
    must chgrp 42 "$f"; eq "$(stat -c %u:%g "$f")" 1234:42 "group only"
    must truncate -s 1M "$f"
    eq "$(stat -c %s "$f")" 1048576 "size after truncate up"
    eq "$(head -c 5 "$f")" hello "data before the hole"
    cmp -s <(tail -c +6 "$f") <(head -c $((1048576 - 5)) /dev/zero) || fail "truncate up: tail is not zeros"
    must truncate -s 3 "$f"
    eq "$(stat -c %s "$f")" 3 "size after truncate down"
    eq "$(cat "$f")" hel "content after truncate down"
    must truncate -s 10 "$f"
    eq "$(od -An -c "$f" | tr -s ' ')" " h e l \\0 \\0 \\0 \\0 \\0 \\0 \\0" "no stale data after down then up"
    must touch -m -d '2001-02-03 04:05:06 UTC' "$f"
    eq "$(stat -c %Y "$f")" 981173106 "mtime set by touch -d"
    must touch -a -d '2002-02-03 04:05:06 UTC' "$f"
    eq "$(stat -c %X "$f")" 1012709106 "atime set by touch -d"
    local c0; c0=$(stat -c %Z "$f"); sleep 1.1; must chmod 0600 "$f"
    [ "$(stat -c %Z "$f")" -gt "$c0" ] || fail "ctime did not move on chmod"
    must mkdir "$d/sub"; must chmod 2770 "$d/sub"; must chown 1000:2000 "$d/sub"
    cd / && must remount
    eq "$(stat -c '%a %u:%g %s %Y' "$f")" "600 1234:42 10 981173106" "attributes after remount"
    eq "$(stat -c '%a %u:%g' "$d/sub")" "2770 1000:2000" "directory attributes after remount"
}

c_create_excl() {
    local d=$W/excl; must mkdir "$d"; cd "$d" || fail cd
    must py "os.close(os.open('x', os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o640))"
    eq "$(stat -c %a x)" 640 "mode of an O_EXCL file"
    local o; o=$(py "
try:
    os.open('x', os.O_CREAT | os.O_EXCL | os.O_WRONLY); print('created')
except OSError as e: print(errno.errorcode[e.errno])" 2>&1)
    eq "$o" EEXIST "second O_EXCL create"
    o=$(py "
try:
    os.mkdir('x'); print('created')
except OSError as e: print(errno.errorcode[e.errno])" 2>&1)
    eq "$o" EEXIST "mkdir over a file"
    mkdir -p a/b && : > a/b/c
    o=$(py "
try:
    os.rmdir('a'); print('removed')
except OSError as e: print(errno.errorcode[e.errno])" 2>&1)
    case $o in ENOTEMPTY|EEXIST) ;; *) fail "rmdir of a non-empty dir: $o" ;; esac
    local n255; n255=$(printf 'n%.0s' $(seq 1 255))
    : > "$n255" || fail "255-byte name refused"
    [ -e "$n255" ] || fail "255-byte name not found"
    : > "$n255"x 2>/dev/null && fail "256-byte name accepted"
    : > 'sp ace;$(x)`q` é' || fail "name with spaces, quotes, UTF-8 refused"
    eq "$(ls | grep -c 'sp ace')" 1 "odd name listed"
}

c_silly_rename() {
    local d=$W/silly; must mkdir "$d"
    echo still-here > "$d/f"
    exec 7< "$d/f"
    must rm "$d/f"
    [ ! -e "$d/f" ] || fail "removed name still there"
    eq "$(cat <&7)" still-here "read through an open fd after unlink"
    exec 7<&-
    local i
    for i in $(seq 50); do [ -z "$(ls -A "$d")" ] && break; sleep 0.1; done
    eq "$(ls -A "$d")" "" ".nfs file left after close"
}

# NFSv4: a file open through one mount and removed through another (a separate superblock, so
# the client cannot silly-rename) stays readable until closed (RFC 7530 §9.6: the server keeps
# the file while it is open), and its name is gone at once.
c_open_unlink() {
    local d=$W/openunlink; must mkdir "$d"
    printf 'kept-until-close\n' > "$d/f"
    must mnt "$ROOT_EXPORT" nosharecache "$MNT2"
    exec 7< "$d/f"
    must rm "$MNT2${W#$MNT}/openunlink/f"
    umount "$MNT2" || fail "umount $MNT2"
    eq "$(cat <&7)" kept-until-close "read through an fd opened before the other mount removed the file"
    exec 7<&-
    [ ! -e "$d/f" ] || fail "removed name still visible"
    eq "$(ls -A "$d")" "" "directory after close"
}

# flock(2): exclusive against exclusive and shared conflicts between two processes, shared
# locks coexist, and unlock lets the other in (the v4 client turns flock into whole-file LOCKs).
c_flock() {
    local f=$W/flock; : > "$f"
    # hold_lock MODE: a background process that holds the lock for 4 s once it has it
    hold_lock() {
        rm -f /tmp/fl.held
        flock "$1" "$f" sh -c 'touch /tmp/fl.held; sleep 4' & holder=$!
        local i; for i in $(seq 100); do [ -e /tmp/fl.held ] && return 0; sleep 0.1; done
        fail "the holder did not get its $1 lock within 10 s"
    }
    local holder
    hold_lock -x
    refused "" flock -n -x "$f" true
    refused "" flock -n -s "$f" true
    wait $holder
    must flock -n -x "$f" true
    hold_lock -s
    must flock -n -s "$f" true
    refused "" flock -n -x "$f" true
    wait $holder
    must flock -n -x "$f" true
}

# fcntl byte-range locks between two processes: overlapping write locks conflict, disjoint
# ranges do not, read locks share, F_GETLK reports the holder's range, unlock releases.
c_fcntl_locks() {
    local f=$W/fcntl; must dd if=/dev/zero of="$f" bs=1k count=64 status=none
    cat > /tmp/holder.py <<'PY'
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX, 100, 1000)     # bytes 1000..1099, write lock
fcntl.lockf(fd, fcntl.LOCK_SH, 100, 5000)     # bytes 5000..5099, read lock (fd is O_RDWR)
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
PY
    cat > /tmp/probe.py <<'PY'
import errno, fcntl, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDWR)
def try_lock(kind, length, start):
    try:
        fcntl.lockf(fd, kind | fcntl.LOCK_NB, length, start)
        fcntl.lockf(fd, fcntl.LOCK_UN, length, start)
        return "granted"
    except OSError as e:
        return errno.errorcode[e.errno]
out = [
    try_lock(fcntl.LOCK_EX, 10, 1050),   # inside the write-locked range
    try_lock(fcntl.LOCK_SH, 10, 1095),   # overlaps its end
    try_lock(fcntl.LOCK_EX, 100, 2000),  # disjoint
    try_lock(fcntl.LOCK_SH, 10, 5010),   # read lock over a read lock
    try_lock(fcntl.LOCK_EX, 10, 5010),   # write lock over a read lock
]
# F_GETLK: who holds byte 1050? struct flock: short type, short whence, off_t start, off_t len, pid_t pid
req = struct.pack("hhqqi", fcntl.F_WRLCK, 0, 1050, 1, 0)
res = fcntl.fcntl(fd, fcntl.F_GETLK, req + b"\0" * 4)
t, _, start, length, _ = struct.unpack("hhqqi", res[:28])
out.append("getlk=%s:%d:%d" % ("W" if t == fcntl.F_WRLCK else "R" if t == fcntl.F_RDLCK else "U", start, length))
print(" ".join(out))
PY
    rm -f /tmp/held; python3 /tmp/holder.py "$f" /tmp/held 6 & local holder=$!
    local i; for i in $(seq 50); do [ -e /tmp/held ] && break; sleep 0.1; done
    [ -e /tmp/held ] || fail "the holder did not take its locks"
    eq "$(python3 /tmp/probe.py "$f")" "EAGAIN EAGAIN granted granted EAGAIN getlk=W:1000:100" "lock attempts of a second process"
    wait $holder
    eq "$(python3 /tmp/probe.py "$f" | cut -d' ' -f1-5)" "granted granted granted granted granted" "after the holder exited"
}

# A process killed while holding a lock: the kernel releases it (LOCKU on close of the last fd),
# and another process gets it at once, not after the lease.
c_lock_killed() {
    local f=$W/killed; : > "$f"
    rm -f /tmp/held
    python3 -c "
import fcntl, os, sys, time
fd = os.open('$f', os.O_RDWR); fcntl.lockf(fd, fcntl.LOCK_EX)
open('/tmp/held', 'w').close(); time.sleep(600)" & local holder=$!
    local i; for i in $(seq 50); do [ -e /tmp/held ] && break; sleep 0.1; done
    [ -e /tmp/held ] || fail "the holder did not take its lock"
    py "
import fcntl
fd = os.open('$f', os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); print('granted while held'); sys.exit(1)
except OSError as e:
    sys.exit(0 if e.errno in (errno.EAGAIN, errno.EACCES) else 1)" || fail "a held lock was granted to another process"
    kill -9 $holder; wait $holder 2>/dev/null
    local t0; t0=$(now)
    py "
import fcntl, time
fd = os.open('$f', os.O_RDWR)
for _ in range(100):
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB); sys.exit(0)
    except OSError: time.sleep(0.1)
sys.exit(1)" || fail "the lock of a killed process was not released within 10 s"
    echo "time: lock free $(secs "$t0" "$(now)") after kill -9"
}

c_bigfile() {
    local f=$W/big.bin
    must dd if=/dev/urandom of=/tmp/big.src bs=1M count=48 status=none
    must dd if=/tmp/big.src of="$f" bs=1M status=none conv=fsync
    # overwrite 100 KiB at an unaligned offset, in the source and on the export
    must dd if=/dev/urandom of=/tmp/patch bs=1k count=100 status=none
    must dd if=/tmp/patch of=/tmp/big.src bs=1 seek=5000001 conv=notrunc status=none
    must dd if=/tmp/patch of="$f" bs=1 seek=5000001 conv=notrunc status=none
    cd / && must remount
    eq "$(sha256sum < "$f")" "$(sha256sum < /tmp/big.src)" "48 MiB file content after remount"
    echo -n tail >> "$f"; echo -n tail >> /tmp/big.src
    eq "$(stat -c %s "$f")" $((48 * 1048576 + 4)) "size after append"
    cmp -s "$f" /tmp/big.src || fail "content after append differs"
    rm -f /tmp/big.src /tmp/patch
}

c_perm() {
    local d=$W/perm; must mkdir "$d"; must chmod 0755 "$d"
    echo secret > "$d/secret"; must chown 1000:1000 "$d/secret"; must chmod 0600 "$d/secret"
    echo public > "$d/public"; must chown 1000:1000 "$d/public"; must chmod 0644 "$d/public"
    refused "Permission denied" as_user 1001 cat "$d/secret"
    eq "$(as_user 1001 cat "$d/public")" public "uid 1001 reads a 0644 file"
    eq "$(as_user 1000 cat "$d/secret")" secret "the owner reads its 0600 file"
    refused "Permission denied" as_user 1001 bash -c "echo x >> '$d/public'"
    refused "Permission denied" as_user 1001 touch "$d/newfile"
    refused "Operation not permitted" as_user 1001 chmod 0666 "$d/public"
    refused "Operation not permitted" as_user 1000 chown 1001 "$d/public"
    must mkdir "$d/tmp"; must chmod 1777 "$d/tmp"
    as_user 1001 bash -c "echo mine > '$d/tmp/mine'" || fail "uid 1001 cannot create in a 1777 dir"
    eq "$(stat -c %u:%g "$d/tmp/mine")" 1001:1001 "owner of a file made by uid 1001"
    refused "Operation not permitted" as_user 1000 rm -f "$d/tmp/mine"
    # group access
    echo grp > "$d/grp"; must chown 0:1001 "$d/grp"; must chmod 0640 "$d/grp"
    eq "$(as_user 1001 cat "$d/grp")" grp "group member reads a 0640 file"
    refused "Permission denied" as_user 1000 cat "$d/grp"
    # search permission on a directory
    must mkdir "$d/closed"; echo in > "$d/closed/f"; must chmod 0700 "$d/closed"
    refused "Permission denied" as_user 1001 cat "$d/closed/f"
}

c_squash() {
    local sd=$MNT$SQUASH_DIR prep=$MNT
    if v4; then
        # NFSv4 crosses from / into the /squash export (its rules apply below it), so
        # root cannot prepare files there through the v4 mount: use a v3 mount of /
        prep=/mnt/prep; mkdir -p "$prep"
        must mount -t nfs -o "vers=3,proto=tcp,port=2049,mountproto=tcp,mountport=$MOUNT_PORT,nolock,nosharecache" "$NFS_SERVER:$ROOT_EXPORT" "$prep"
        sd=$prep$SQUASH_DIR
        # and through the v4 mount of /, root is squashed below /squash already
        refused "Operation not permitted" chmod 1777 "$MNT$SQUASH_DIR"
    fi
    [ -d "$sd" ] || fail "$SQUASH_DIR does not exist inside $ROOT_EXPORT"
    must chmod 1777 "$sd"
    # unique per run: the suite may run several times against one server (one per NFS version)
    local tag=sq.${W##*/}
    local t=$sd/$tag; must mkdir "$t"; must chmod 1777 "$t"
    echo secret > "$t/secret"; must chown 1000:1000 "$t/secret"; must chmod 0600 "$t/secret"
    echo open > "$t/open"; must chmod 0644 "$t/open"
    # nosharecache: the squash export is the same file system, the client must not reuse
    # the root export's superblock (its attribute and access caches)
    must mnt "$SQUASH_EXPORT" nosharecache "$SQ"
    local st=$SQ/$tag
    echo root > "$st/byroot" || fail "squashed root cannot create in a 1777 dir"
    eq "$(stat -c %u:%g "$st/byroot")" 65534:65534 "owner of a file created by root on $SQUASH_EXPORT"
    refused "Permission denied" cat "$st/secret"
    eq "$(cat "$st/open")" open "squashed root reads a 0644 file"
    refused "Operation not permitted" chown 0 "$st/byroot"
    eq "$(as_user 1000 cat "$st/secret")" secret "uid 1000 (not squashed) reads its file"
    umount "$SQ" || fail "umount $SQ"
    # seen through the root export too
    eq "$(stat -c %u:%g "$t/byroot")" 65534:65534 "owner seen through $ROOT_EXPORT"
    [ "$prep" = "$MNT" ] || umount "$prep" || fail "umount $prep"
}

c_sparse() {
    local f=$W/sparse
    must dd if=/dev/urandom of=/tmp/head bs=4096 count=1 status=none
    must dd if=/dev/urandom of=/tmp/tail bs=4096 count=1 status=none
    must dd if=/tmp/head of="$f" bs=4096 status=none
    must dd if=/tmp/tail of="$f" bs=4096 seek=$((1048576 - 1)) conv=notrunc status=none
    eq "$(stat -c %s "$f")" 4294967296 "size"
    cd / && must remount
    eq "$(stat -c %s "$f")" 4294967296 "size after remount"
    cmp -s <(dd if="$f" bs=4096 count=1 status=none) /tmp/head || fail "first 4 KiB differ"
    cmp -s <(dd if="$f" bs=4096 skip=$((1048576 - 1)) status=none) /tmp/tail || fail "last 4 KiB differ"
    cmp -s <(dd if="$f" bs=4096 skip=524288 count=256 status=none) <(head -c 1048576 /dev/zero) || fail "middle (2 GiB) is not zeros"
    local kb; kb=$(du -k "$f" | cut -f1)
    [ "$kb" -lt 65536 ] || fail "du says ${kb} KiB for a sparse file with 8 KiB of data"
    # 64-bit offsets: a write beyond 4 GiB
    must dd if=/tmp/tail of="$f" bs=4096 seek=$((5 * 262144)) conv=notrunc status=none
    eq "$(stat -c %s "$f")" $((5 * 1073741824 + 4096)) "size after a write at 5 GiB"
    cd / && must remount
    cmp -s <(dd if="$f" bs=4096 skip=$((5 * 262144)) status=none) /tmp/tail || fail "block at 5 GiB differs"
    must truncate -s 8192 "$f"
    eq "$(stat -c %s "$f")" 8192 "size after truncating the sparse file"
}

c_bigdir() {
    local d=$W/bigdir N=$BIGDIR_N k w=8 t0
    must mkdir "$d"
    t0=$(now)
    for k in $(seq 0 $((w - 1))); do
        ( cd "$d" && i=$k; while [ $i -lt "$N" ]; do : > "f$i" || exit 1; i=$((i + w)); done ) &
    done
    local bad=0; for k in $(seq $w); do wait -n || bad=1; done
    [ $bad = 0 ] || fail "creating files failed"
    echo "time: created $N files in $(secs "$t0" "$(now)")"
    t0=$(now)
    eq "$(ls "$d" | wc -l)" "$N" "ls | wc -l"
    echo "time: listed in $(secs "$t0" "$(now)")"
    cd / && must remount
    t0=$(now)
    ls "$d" > /tmp/ls.out || fail "ls after remount failed"
    echo "time: listed cold in $(secs "$t0" "$(now)")"
    seq -f 'f%.0f' 0 $((N - 1)) | LC_ALL=C sort > /tmp/ls.want
    LC_ALL=C sort /tmp/ls.out | diff - /tmp/ls.want > /tmp/ls.diff || fail "listing after remount: $(grep -c '^<' /tmp/ls.diff) extra, $(grep -c '^>' /tmp/ls.diff) missing: $(head -n 3 /tmp/ls.diff | tr '\n' ' ')"
    # remove a few thousand, spread over the directory
    local gone=$((N / 30))
    t0=$(now)
    (cd "$d" && seq -f 'f%.0f' 0 30 $((N - 1)) | head -n "$gone" | xargs rm) || fail "rm failed"
    echo "time: removed $gone in $(secs "$t0" "$(now)")"
    eq "$(ls "$d" | wc -l)" $((N - gone)) "ls | wc -l after removing $gone"
    cd / && must remount
    eq "$(ls -f "$d" | wc -l)" $((N - gone + 2)) "ls -f | wc -l (with . and ..) after remount"
    eq "$(find "$d" -mindepth 1 | wc -l)" $((N - gone)) "find | wc -l after remount"
}

c_dots() {
    local d=$W/dots; must mkdir -p "$d/a/b"
    cd / && must remount
    eq "$(stat -c %i "$d/a/b/..")" "$(stat -c %i "$d/a")" "stat b/.. = a"
    eq "$(stat -c %i "$d/a/.")" "$(stat -c %i "$d/a")" "stat a/. = a"
    eq "$(stat -c %i "$MNT/.")" "$(stat -c %i "$MNT")" "stat of the mount root ."
    # the entries READDIR returns for . and ..
    local dot dotdot
    dot=$(ls -ai "$d/a" | awk '$2=="."{print $1}')
    dotdot=$(ls -ai "$d/a" | awk '$2==".."{print $1}')
    eq "$dot" "$(stat -c %i "$d/a")" "readdir . of a"
    eq "$dotdot" "$(stat -c %i "$d")" "readdir .. of a"
    eq "$(ls -ai "$d" | awk '$2=="a"{print $1}')" "$(stat -c %i "$d/a")" "readdir entry a"
    dot=$(ls -ai "$MNT" | awk '$2=="."{print $1}')
    eq "$dot" "$(stat -c %i "$MNT")" "readdir . of the export root"
    eq "$(cd "$d/a/b" && cd .. && pwd -P)" "$d/a" "cd .."
}

c_dir_nlink() {
    local d=$W/nlink; must mkdir -p "$d/a/b" "$d/a/c"; : > "$d/a/f"
    eq "$(stat -c %h "$d/a")" 4 "link count of a directory with two subdirectories"
    must rmdir "$d/a/c"
    eq "$(stat -c %h "$d/a")" 3 "link count after rmdir"
}

c_cleanup() {
    [ "${KEEP:-0}" = 1 ] && { echo "KEEP=1: leaving $W"; return 0; }
    cd / || fail cd
    if [ "${CLEANUP:-full}" = quick ]; then
        # everything but the big directory (minutes of REMOVEs under emulation)
        find "$W" -mindepth 1 -maxdepth 1 ! -name bigdir -exec rm -rf {} + || fail "rm -rf of the work tree failed"
        eq "$(ls "$W" | tr '\n' ' ')" "$( [ -d "$W/bigdir" ] && echo 'bigdir ')" "work tree after cleanup"
    else
        must rm -rf "$W"
        [ ! -e "$W" ] || fail "$W still exists"
    fi
    umount "$MNT" || fail "umount"
}

# ---- run -------------------------------------------------------------------------
echo "# kernel client suite (NFS_VERS=$NFS_VERS): $(uname -r), server $NFS_SERVER:$ROOT_EXPORT, -o $OPTS"
check mount c_mount
if ! grep -qE " $MNT nfs4? " /proc/mounts; then
    echo "# cannot continue without the mount"
    finish
fi
check tree_copy c_tree_copy
check tree_cold c_tree_cold
check c_build c_c_build
check hardlinks c_hardlinks
check symlinks c_symlinks
check rename c_rename
check fifo c_fifo
check devnode c_devnode
check attrs c_attrs
check create_excl c_create_excl
check silly_rename c_silly_rename
if v4; then
    check open_unlink c_open_unlink
    check flock c_flock
    check fcntl_locks c_fcntl_locks
    check lock_killed c_lock_killed
else
    skip open_unlink "NFSv4 only (v3 has silly rename)"
    skip flock "v3 runs with nolock (no NLM)"
    skip fcntl_locks "v3 runs with nolock (no NLM)"
    skip lock_killed "v3 runs with nolock (no NLM)"
fi
check bigfile c_bigfile
check perm c_perm
if [ -n "$SQUASH_EXPORT" ]; then check squash c_squash; else skip squash "no SQUASH_EXPORT"; fi
check sparse c_sparse
check dots c_dots
check dir_nlink c_dir_nlink
check bigdir c_bigdir
skip snap_write "snapshots (.snap) are not implemented yet"
check cleanup c_cleanup
finish
