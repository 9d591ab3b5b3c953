from k2_codeexec.server import main

main()
