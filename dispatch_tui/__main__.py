from dispatch_tui.cli.main import run

run()
