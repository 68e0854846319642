# Sourced by the scripts that run inside the throwaway systemd (demo,
# bench): installs sdbuild's units into /run (the testbed's own tmpfs, so
# the host's /etc is untouched), with state in /run too, and starts only
# sdbuild.socket; the first CLI call starts the daemon.
#
# First the system bus, as a booted machine has it: dbus.service started
# and systemd on the bus. Otherwise sdbuildd and systemd-run talk to
# systemd over its private socket, where systemd sends every client every
# signal of every unit, and each build pays for all the others'.
bin=$(pwd)/bin
export SDBUILD_SOCKET=/run/sdbuild/sdbuild.sock
systemctl start dbus.service
for _ in $(seq 100); do
	busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1 && break
	sleep 0.1
done
busctl --system status org.freedesktop.systemd1 >/dev/null || { echo "systemd is not on the system bus" >&2; exit 1; }
"$bin/sdbuild" install-units --dir /run/systemd/system --bindir "$bin" >/dev/null
mkdir -p /run/systemd/system/sdbuild.service.d
printf '[Service]\nEnvironment=SDBUILD_STATE_DIR=/run/sdbuild-state\n' >/run/systemd/system/sdbuild.service.d/testbed.conf
systemctl daemon-reload
systemctl start sdbuild.socket
