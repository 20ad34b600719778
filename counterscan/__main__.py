from counterscan.cli import main

raise SystemExit(main())
