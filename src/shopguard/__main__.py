from shopguard.cli.app import main

main()
