"""政务超级应用 server: Tornado app, HTTP plumbing, config, storage clients, matters."""
