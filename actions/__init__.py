"""rasa-sdk action server of the Génération Entrepreneurs assistant.

rasa-sdk imports every module of this package and instantiates every Action: modules must not
do I/O at import time (the backend client is created lazily).
"""
