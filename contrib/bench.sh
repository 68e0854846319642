#!/bin/sh
# Runs inside the throwaway systemd (make bench): times builds through the
# socket-activated daemon beside systemd-run --scope and unshare.
set -eu
. contrib/testbed-units.sh
"$bin/sdbuild" bench --local "$@"
