"""Operations: real processes, crashes and signals, replicas, the command line, migrations,
the sandbox in a browser, the benchmarks' checks, the lock file."""
