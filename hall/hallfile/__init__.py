"""The hall file: one YAML file that describes a district's halls (district → street →
community), each hall's services, queue rules and counters, and the staff; no passwords.

``specs`` holds its shape (the pydantic models), ``hours`` the opening hours' spelling,
``reading`` the reading of a file (``read``, ``check``) and ``checks`` what the models cannot see;
``writing`` writes a file back (``dump``) and says what two files are compared by (``normal``).
``plan`` says what applying a file would change, and ``store`` holds the database's side: the
file the database holds, and applying one.
"""
