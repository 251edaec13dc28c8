"""Cryptographic helpers of the core: password policy, hashing and peppered digests."""
