# Sourced by the scripts that run inside the throwaway systemd (demo,
# bench): installs sdbuild's units into /run (the testbed's own tmpfs, so
# the host's /etc is untouched), with state in /run too, and starts only
# sdbuild.socket; the first CLI call starts the daemon.
bin=$(pwd)/bin
export SDBUILD_SOCKET=/run/sdbuild/sdbuild.sock
"$bin/sdbuild" install-units --dir /run/systemd/system --bindir "$bin" >/dev/null
mkdir -p /run/systemd/system/sdbuild.service.d
printf '[Service]\nEnvironment=SDBUILD_STATE_DIR=/run/sdbuild-state\n' >/run/systemd/system/sdbuild.service.d/testbed.conf
systemctl daemon-reload
systemctl start sdbuild.socket
