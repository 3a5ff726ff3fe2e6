"""Hosting checks, one module per area (OS, access, network, web, PHP, code,
databases, caches, logs, isolation); discovered automatically."""
