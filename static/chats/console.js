// The console is built in issue 6.
