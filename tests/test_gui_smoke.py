"""The GUI entry point opens a window (offscreen)."""

from lipsync_desktop import APP_NAME


def test_main_window_opens(qtbot):
    from lipsync_desktop.gui.app import build_main_window

    window = build_main_window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert APP_NAME in window.windowTitle()
    assert "lipsync-desktop run" in window.centralWidget().text()
