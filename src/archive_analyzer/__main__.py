from archive_analyzer.cli import main

main()
