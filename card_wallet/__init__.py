"""电子证照卡包: certificate types, issuers, issued certificates, holder wallets, sharing."""
