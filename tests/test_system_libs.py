"""The first start on a Linux desktop without the X libraries Qt's xcb plugin needs: one
line naming the packages to install, and a non-zero exit, instead of Qt's abort."""

from __future__ import annotations

import pytest

from explorer import system_libs
from explorer.app import main

ABSENT = {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"}


def loader(absent: set[str]):
    def load(soname: str) -> object:
        if soname in absent:
            raise OSError(f"{soname}: cannot open shared object file: No such file or directory")
        return object()

    return load


@pytest.fixture
def fresh_desktop(monkeypatch):
    """A Linux X11 session on which three of the libraries are not installed."""
    monkeypatch.setattr(system_libs.sys, "platform", "linux")
    monkeypatch.setattr(system_libs, "_load", loader(ABSENT))
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")


def test_the_app_names_the_packages_and_exits(fresh_desktop, capsys):
    assert main([]) != 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1  # one line
    assert "sudo apt install libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1" in err
    assert "libxcb-cursor.so.0" in err
    assert "libxcb-image0" not in err  # only what is missing


def test_the_command_line_app_exits_non_zero_too(fresh_desktop, capsys):
    from explorer.__main__ import main as command_line_main

    assert command_line_main([]) == 1
    assert "sudo apt install" in capsys.readouterr().err


def test_nothing_is_said_when_the_libraries_are_there(monkeypatch):
    monkeypatch.setattr(system_libs, "_load", loader(set()))
    assert system_libs.xcb_problem({"QT_QPA_PLATFORM": "xcb"}, "linux") == ""


@pytest.mark.parametrize(
    ("environ", "platform"),
    [
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux"),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, "linux"),
        ({"XDG_SESSION_TYPE": "wayland", "WAYLAND_DISPLAY": "wayland-0"}, "linux"),
        ({}, "darwin"),
        ({}, "win32"),
    ],
)
def test_other_platforms_are_not_checked(monkeypatch, environ, platform):
    def load(soname: str) -> object:
        raise AssertionError(f"{soname} was looked for")

    monkeypatch.setattr(system_libs, "_load", load)
    assert system_libs.xcb_problem(environ, platform) == ""


@pytest.mark.parametrize(
    "environ",
    [
        {},
        {"QT_QPA_PLATFORM": "xcb"},
        {"QT_QPA_PLATFORM": "xcb;wayland"},
        {"XDG_SESSION_TYPE": "x11"},
    ],
)
def test_x11_sessions_are_checked(environ):
    assert system_libs.uses_xcb(environ, "linux")
