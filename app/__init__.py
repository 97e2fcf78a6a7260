"""The Streamlit adapter: pages, navigation, messages and small widgets. No arithmetic, no SQL here."""
