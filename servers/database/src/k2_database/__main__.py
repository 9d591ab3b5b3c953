from k2_database.server import main

main()
