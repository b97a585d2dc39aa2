#!/bin/sh
# systemd-sleep hook: after resume from suspend or hibernation, report every PCI function the
# daemon watches as reset (kind "resume"), so each is re-authenticated and re-accepted only
# through the same-device check. Install as /usr/lib/systemd/system-sleep/spdmkit (mode 0755).
[ "$1" = "post" ] || exit 0
SOCKET=/run/spdmkit/spdmkitd.sock
for dev in /sys/bus/pci/devices/*; do
  /usr/bin/spdm devices reset "${dev##*/}" --kind resume --socket "$SOCKET" >/dev/null 2>&1 || true
done
exit 0
