"""Test doubles at the network edge: a loopback E-utilities server and generated PubMed records."""
