// The widget is built in issue 6.
