"""Payload protection: the key ring and the AES-GCM codec every Temporal payload of the project passes through."""
