from . import main

raise SystemExit(main(as_module=True))
