from k2_filesystem.server import main

main()
