from lipsync_desktop.cli import main

raise SystemExit(main())
