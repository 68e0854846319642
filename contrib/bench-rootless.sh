#!/bin/sh
# Runs inside the throwaway systemd (make bench-rootless): times builds
# through an unprivileged user's own daemon (systemctl --user), on a
# subordinate id range, beside systemd-run --user --scope and unshare. The
# user and its /etc/subuid line exist only in the testbed's mount
# namespace (an overlay on /etc).
set -eu
bin=$(pwd)/bin
user=sdbuild-bench uid=61100
work=$(mktemp -d /tmp/sdbuild-bench-rootless.XXXXXX)
chmod 755 "$work"
trap 'systemctl stop user@$uid.service; umount -l /etc; rm -rf "$work"' EXIT
mkdir -p "$work/upper" "$work/work" "$work/home"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$work/upper,workdir=$work/work" /etc
echo "$user:x:$uid:$uid::$work/home:/bin/sh" >>/etc/passwd
echo "$user:x:$uid:" >>/etc/group
echo "$user:*:19000:0:99999:7:::" >>/etc/shadow
echo "$user:3858759680:524288" >>/etc/subuid   # 8 slots from 0xE6000000, apart from the tests'
echo "$user:3858759680:524288" >>/etc/subgid
chown "$uid:$uid" "$work/home"
systemctl start "user@$uid.service"
as_user() {
	setpriv --reuid "$uid" --regid "$uid" --clear-groups env -i HOME="$work/home" PATH=/usr/bin:/bin \
		XDG_RUNTIME_DIR=/run/user/$uid DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus "$@"
}
# The user's bus with the user's systemd on it, as a login session has it
# (see testbed-units.sh).
as_user systemctl --user start dbus.service
for _ in $(seq 100); do
	as_user busctl --user status org.freedesktop.systemd1 >/dev/null 2>&1 && break
	sleep 0.1
done
as_user busctl --user status org.freedesktop.systemd1 >/dev/null || { echo "the user's systemd is not on the user bus" >&2; exit 1; }
as_user "$bin/sdbuild" install-units --bindir "$bin" >/dev/null
as_user systemctl --user enable --now sdbuild.socket
cd "$work/home"
as_user "$bin/sdbuild" bench --local "$@"
