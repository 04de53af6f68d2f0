-- A second database for Rasa's conversation (tracker) store, beside the backend's.
CREATE DATABASE rasa_tracker OWNER ge;
