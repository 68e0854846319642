#!/bin/sh
# Runs inside the throwaway systemd (make demo): a real build through the
# socket-activated daemon, and what systemd and journald show of it.
set -eu
inputs="-i /usr -i /bin -i /lib -i /lib64 -e PATH=/usr/bin:/bin"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

. contrib/testbed-units.sh

step systemctl is-active sdbuild.socket sdbuild.service
systemctl is-active sdbuild.socket sdbuild.service || true

rm -rf ./result
step sdbuild run $inputs -o ./result -- /bin/sh -c 'echo hi; echo hi > $out/x'
"$bin/sdbuild" run $inputs -o ./result -- /bin/sh -c 'echo hi; echo hi > $out/x'
step cat ./result/x
cat ./result/x

step sdbuild run --detach $inputs --name slow -- /bin/sh -c 'echo working; sleep 1; echo done'
id=$("$bin/sdbuild" run --detach $inputs --name slow -- /bin/sh -c 'echo working; sleep 1; echo done')
echo "$id"
while [ "$(systemctl is-active "sdbuild-$id.scope")" != active ]; do sleep 0.05; done
step systemctl status "sdbuild-$id.scope"
systemctl status --no-pager "sdbuild-$id.scope" || true
step systemctl show -p Delegate,Slice "sdbuild-$id.scope"
systemctl show -p Delegate,Slice "sdbuild-$id.scope"
step sdbuild logs -f "$id"
"$bin/sdbuild" logs -f "$id"
step journalctl -u "sdbuild-$id.scope"
journalctl --sync
journalctl --no-pager -u "sdbuild-$id.scope"
step sdbuild list
"$bin/sdbuild" list
step sdbuild show "$id"
"$bin/sdbuild" show "$id"
step sdbuild status
"$bin/sdbuild" status
rm -rf ./result
