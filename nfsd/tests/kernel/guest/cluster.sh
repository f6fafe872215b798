#!/bin/bash
# cluster.sh: the kernel client against a 3-node Cairn cluster, one mount per node. Runs inside
# the test guest as root; `run --cluster` starts the nodes and forwards guest ports 2050, 2051,
# 2052 to nodes 1, 2, 3.
#
# Every mount uses actimeo=0: to the client the three nodes are three servers, so it would
# otherwise trust its cached attributes of a directory changed through another node for up
# to acdirmax. Files are read after close, so close-to-open is what the data checks rely on.
#
# Talking to the host (which kills and restarts nodes): the host writes /host/ctl/leader (the
# leader's node id, before the guest starts), /host/ctl/killed (the node it killed) and
# /host/ctl/restarted (once that node listens again); the guest asks for the kill by writing
# /out/kill-leader.
#
# Environment: NFS_VERS (3, 4.0, 4.1, 4.2, bare), NFS_SERVER (default host), CLUSTER_TREE_SRC
# (trees copied in; default two folders of /usr/share/zoneinfo), CLUSTER_ONLY/CLUSTER_SKIP
# (check names to run/skip; ONLY and SKIP belong to suite.sh, which runs before this in the
# same guest), KILL_ACKS (writes acknowledged before and after the kill, default 10).
NFS_SERVER=${NFS_SERVER:-host}
TREE_SRC=${CLUSTER_TREE_SRC:-/usr/share/zoneinfo/America /usr/share/zoneinfo/Europe}
NFS_VERS=${NFS_VERS:-3}
KILL_ACKS=${KILL_ACKS:-10}
ONLY=${CLUSTER_ONLY:-} SKIP=${CLUSTER_SKIP:-}
LOGS=/tmp/cluster
. "$(dirname "$0")/lib.sh"
vers_opts 2050 2050 > /dev/null || exit 2
WD=cluster.$(date +%s).$$          # work directory, the same on every node's mount
m() { echo "/mnt/c$1"; }           # mount point of node N
w() { echo "/mnt/c$1/$WD"; }       # work directory through node N

# manifest DIR: every entry with type, mode, size and link target, then every file's digest
manifest() {
    (cd "$1" && find . \( -type l -printf '%p l %m -> %l\n' \) -o -printf '%p %y %m %s\n' | sort \
        && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

c_mounts() {
    local n
    for n in 1 2 3; do
        mkdir -p "$(m $n)"
        must mount -t nfs -o "$(vers_opts $((2049 + n)) $((2049 + n))),actimeo=0" "$NFS_SERVER:/" "$(m $n)"
        grep -qE " $(m $n) nfs4? " /proc/mounts || fail "node $n not in /proc/mounts"
    done
    echo "time: $(grep ' /mnt/c1 nfs' /proc/mounts | grep -o 'vers=[0-9.]*' | head -n 1) on each node"
    must mkdir "$(w 1)"
    [ -d "$(w 2)" ] && [ -d "$(w 3)" ] || fail "a directory made through node 1 is missing through node 2 or 3"
}

c_cross_read() {
    local s n want got t0
    must mkdir "$(w 1)/tree"
    t0=$(now)
    for s in $TREE_SRC; do
        [ -d "$s" ] || continue
        cp -a "$s" "$(w 1)/tree/$(echo "$s" | tr / _)" 2> "$LOGS/cp.err" \
            || fail "cp -a $s through node 1: $(head -n 1 "$LOGS/cp.err")"
    done
    head -c $((40 << 20)) /dev/urandom > /tmp/big.bin
    must cp /tmp/big.bin "$(w 1)/tree/big.bin"
    echo "time: written through node 1 in $(secs "$t0" "$(now)")"
    want=$(manifest "$(w 1)/tree")
    [ "$(printf '%s\n' "$want" | wc -l)" -gt 100 ] || fail "the tree through node 1 is too small to mean anything"
    for n in 2 3; do
        t0=$(now)
        got=$(manifest "$(w $n)/tree")
        [ "$got" = "$want" ] || fail "node $n sees another tree than node 1: $(diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | head -n 4 | tr '\n' ' ')"
        echo "time: read back byte-identical through node $n in $(secs "$t0" "$(now)")"
    done
    cmp /tmp/big.bin "$(w 3)/tree/big.bin" || fail "big.bin differs through node 3"
}

c_cross_namespace() {
    local d=cluster-ns
    must mkdir "$(w 2)/$d"
    echo x > "$(w 2)/$d/a" || fail "create through node 2"
    must mv "$(w 3)/$d/a" "$(w 3)/$d/b"
    must ln "$(w 3)/$d/b" "$(w 3)/$d/h"
    must ln -s b "$(w 3)/$d/s"
    eq "$(ls "$(w 1)/$d" | tr '\n' ' ')" "b h s " "listing through node 1 after changes through 2 and 3"
    eq "$(stat -c %h "$(w 1)/$d/b")" 2 "link count through node 1"
    eq "$(readlink "$(w 1)/$d/s")" b "symlink target through node 1"
    eq "$(cat "$(w 1)/$d/s")" x "content through the symlink on node 1"
    must rm "$(w 1)/$d/h"
    eq "$(stat -c %h "$(w 2)/$d/b")" 1 "link count through node 2 after unlink on node 1"
    [ ! -e "$(w 2)/$d/a" ] || fail "the old name is still there through node 2"
    must chmod 0640 "$(w 2)/$d/b"
    eq "$(stat -c %a "$(w 3)/$d/b")" 640 "mode through node 3 after chmod on node 2"
    must rm -r "$(w 3)/$d"
    [ ! -e "$(w 1)/$d" ] || fail "a directory removed through node 3 is still there through node 1"
}

c_cross_append() {
    local f=append.txt
    printf one > "$(w 1)/$f" || fail "write through node 1"
    printf two >> "$(w 2)/$f" || fail "append through node 2"
    eq "$(cat "$(w 3)/$f")" onetwo "content through node 3"
    eq "$(stat -c %s "$(w 1)/$f")" 6 "size through node 1"
    must truncate -s 2 "$(w 3)/$f"
    eq "$(cat "$(w 1)/$f")" on "content through node 1 after truncate on node 3"
}

# NFSv4 byte-range locks conflict across nodes: while a process holds an fcntl write lock on
# bytes 0-99 through node 1's mount, a second process's F_SETLK on bytes 50-149 through node 2's
# mount fails with EAGAIN/EACCES (its client got NFS4ERR_DENIED); after the holder unlocks, the
# same F_SETLK succeeds.
c_cross_lock() {
    v4 || skip_now "NFSv3 locks go through NLM (mounted nolock)"
    local f=lock.db
    : > "$(w 1)/$f" || fail "create through node 1"
    rm -f /tmp/xl.held /tmp/xl.release
    python3 -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 0)
open("/tmp/xl.held", "w").close()
while not os.path.exists("/tmp/xl.release"):
    time.sleep(0.1)
fcntl.lockf(fd, fcntl.LOCK_UN, 100, 0)
' "$(w 1)/$f" 2> "$LOGS/xl.holder.err" & local holder=$!
    wait_for /tmp/xl.held 20 || { kill $holder; fail "no write lock through node 1: $(tail -n 1 "$LOGS/xl.holder.err")"; }
    # setlk PATH: F_SETLK (write, bytes 50-149); prints "ok" or the errno name
    setlk() {
        python3 -c 'import errno, fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 100, 50); print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, e.errno))' "$1"
    }
    local got; got=$(setlk "$(w 2)/$f" 2>&1)
    touch /tmp/xl.release; wait $holder
    echo "time: F_SETLK through node 2 while node 1's client held the range: $got"
    case $got in EAGAIN|EACCES) ;; *) fail "F_SETLK through node 2 while node 1's client holds the range: '$got', expected EAGAIN or EACCES" ;; esac
    eq "$(setlk "$(w 2)/$f" 2>&1)" ok "F_SETLK through node 2 after the holder unlocked"
}

# wait_for FILE SECONDS: poll for a file the host writes
wait_for() { local i; for i in $(seq $(($2 * 10))); do [ -e "$1" ] && return 0; sleep 0.1; done; return 1; }

c_kill_leader() {
    local leader i others=()
    leader=$(cat /host/ctl/leader 2> /dev/null) || fail "the host did not say which node leads"
    case $leader in 1|2|3) ;; *) fail "no leader named by the host: '$leader'" ;; esac
    for i in 1 2 3; do [ "$i" = "$leader" ] || others+=("$i"); done
    local wn=${others[0]} on=${others[1]}
    echo "time: leader $leader, writing through node $wn, checking through node $on"
    local d; d=$(w "$wn")/kill; must mkdir "$d"
    for i in 0 1 2 3; do head -c $((256 << 10)) /dev/urandom > "/tmp/pat$i"; done
    rm -f /tmp/acked /tmp/stop
    # the workload: create, write 256 KiB and fsync (WRITE + COMMIT) one file after another;
    # a file is acknowledged when dd (with its fsync) and close returned success
    (
        i=0
        while [ ! -e /tmp/stop ]; do
            i=$((i + 1))
            if dd if="/tmp/pat$((i % 4))" of="$d/f$i" bs=256k conv=fsync status=none 2>> "$LOGS/dd.err"; then
                echo "$i $(date +%s.%N)" >> /tmp/acked
            else
                echo "f$i: dd failed" >> "$LOGS/dd.err"
            fi
        done
    ) & local writer=$!
    acks() { [ -e /tmp/acked ] && wc -l < /tmp/acked || echo 0; }
    for i in $(seq 600); do [ "$(acks)" -ge "$KILL_ACKS" ] && break; sleep 0.1; done
    [ "$(acks)" -ge "$KILL_ACKS" ] || { touch /tmp/stop; wait $writer; fail "only $(acks) writes acknowledged before the kill"; }
    echo kill > /out/kill-leader
    wait_for /host/ctl/killed 30 || { touch /tmp/stop; wait $writer; fail "the host did not kill the leader"; }
    local killed t_kill before; killed=$(cut -d' ' -f1 /host/ctl/killed); t_kill=$(date +%s.%N); before=$(acks)
    [ "$killed" = "$leader" ] || echo "time: the leader changed before the kill: node $killed was killed"
    for i in $(seq 1200); do [ "$(acks)" -ge $((before + KILL_ACKS)) ] && break; sleep 0.1; done
    [ "$(acks)" -ge $((before + KILL_ACKS)) ] \
        || { touch /tmp/stop; wait $writer; fail "the workload did not resume within 120 s of killing node $killed ($(acks) acknowledged)"; }
    local first_after; first_after=$(awk -v t="$t_kill" '$2 > t {print $2; exit}' /tmp/acked)
    echo "time: first write acknowledged $(secs "$t_kill" "$first_after") after the kill was seen"
    wait_for /host/ctl/restarted 120 || { touch /tmp/stop; wait $writer; fail "the host did not restart node $killed"; }
    before=$(acks)
    for i in $(seq 600); do [ "$(acks)" -ge $((before + 3)) ] && break; sleep 0.1; done
    touch /tmp/stop; wait $writer
    [ -s "$LOGS/dd.err" ] && echo "time: failed writes (not acknowledged): $(wc -l < "$LOGS/dd.err") lines, first: $(head -n 1 "$LOGS/dd.err")"
    local n=0 bad=0 node
    # every acknowledged file, byte-identical through the other survivor and through the
    # restarted node (which must have caught up)
    for node in $on $killed; do
        while read -r i _; do
            n=$((n + 1))
            cmp -s "/tmp/pat$((i % 4))" "$(w "$node")/kill/f$i" || { bad=$((bad + 1)); echo "f$i differs or is missing through node $node"; }
        done < /tmp/acked
    done
    [ $bad = 0 ] || fail "$bad of $n acknowledged files lost or wrong (see the log)"
    echo "time: $(acks) acknowledged files intact through nodes $on and $killed (restarted)"
}

c_cleanup() {
    cd / || fail cd
    must rm -rf "$(w 1)"
    [ ! -e "$(w 2)" ] || fail "the work directory is still there through node 2"
    local n; for n in 1 2 3; do umount "$(m $n)" || fail "umount node $n"; done
}

echo "# kernel client against a 3-node cluster (NFS_VERS=$NFS_VERS): $(uname -r), -o $(vers_opts 2050 2050),actimeo=0"
check mounts c_mounts
grep -qE " /mnt/c3 nfs4? " /proc/mounts || { echo "# cannot continue without the mounts"; finish; }
check cross_read c_cross_read
check cross_namespace c_cross_namespace
check cross_append c_cross_append
check cross_lock c_cross_lock
check kill_leader c_kill_leader
check cleanup c_cleanup
finish
