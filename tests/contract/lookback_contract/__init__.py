"""Validators that check Lookback's mock APIs and connector requests against the platforms'
official SDKs (pinned in ../requirements.txt and ../package.json)."""
