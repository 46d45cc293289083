"""Before Qt starts on Linux: are the system libraries its X11 (xcb) plugin needs there?

Qt's xcb platform plugin links against a dozen small X libraries that a desktop does
not always have (`libxcb-cursor0` above all: Qt 6.5+ needs it, and few programs
besides do). Without one, creating the QApplication aborts the process with Qt's own
message, which suggests reinstalling the application. This check runs first and says
in one line which packages to install. No Qt here: it runs before Qt is loaded.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable, Mapping

# What Qt's xcb plugin (libqxcb.so, libQt6XcbQpa.so.6) loads, and the Debian / Ubuntu
# package that has it.
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libX11-xcb.so.1": "libx11-xcb1",
}


def _load(soname: str) -> object:
    """Load a shared library as the dynamic linker would for Qt; OSError if it cannot."""
    return ctypes.CDLL(soname)


def uses_xcb(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will try its X11 (xcb) plugin first on this machine."""
    if not platform.startswith("linux"):
        return False
    requested = environ.get("QT_QPA_PLATFORM", "")
    if requested:  # e.g. "xcb", "wayland;xcb", "offscreen", "xcb:option=value"
        return requested.split(";")[0].split(":")[0].strip() == "xcb"
    # Qt 6 tries Wayland first in a Wayland session, and X11 everywhere else.
    return not (environ.get("XDG_SESSION_TYPE") == "wayland" and environ.get("WAYLAND_DISPLAY"))


def missing_xcb_libraries(load: Callable[[str], object] | None = None) -> list[str]:
    """The libraries of XCB_LIBRARIES that cannot be loaded."""
    load = load or _load
    missing = []
    for soname in XCB_LIBRARIES:
        try:
            load(soname)
        except OSError:
            missing.append(soname)
    return missing


def xcb_problem(environ: Mapping[str, str] = os.environ, platform: str = sys.platform) -> str:
    """One line naming the packages to install when Qt's xcb plugin cannot load, else ""."""
    if not uses_xcb(environ, platform):
        return ""
    missing = missing_xcb_libraries()
    if not missing:
        return ""
    packages = " ".join(XCB_LIBRARIES[m] for m in missing)
    return (
        f"Latent Explorer cannot open its window: Qt's X11 platform plugin needs "
        f"{', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} not installed. "
        f"On Debian or Ubuntu: sudo apt install {packages}"
    )
