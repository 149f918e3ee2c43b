"""The helper: its dispatch in process, and the real `ticktick-signon serve` over stdio."""
