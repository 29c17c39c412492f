from foureyes_cli.main import main

raise SystemExit(main(["local", "serve", *__import__("sys").argv[1:]]))
