from k2_websearch.server import main

main()
