"""One module per page. Each is a script that ``st.navigation`` runs; register it in :mod:`app.navigation`."""
