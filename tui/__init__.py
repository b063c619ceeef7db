"""How the person on duty sees and steers the desk: the Textual app, its screens and widgets."""
