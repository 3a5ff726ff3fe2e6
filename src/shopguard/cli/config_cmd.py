"""``shopguard init`` and ``shopguard config check``."""

from __future__ import annotations

import tomllib
from pathlib import Path

import typer
from rich.console import Console

from shopguard.cli.common import CONFIG_OPTION, ExitCode, fail, load
from shopguard.config import CONFIG_FILENAME, ConfigError, PaymentIntegration, Platform, parse_config
from shopguard.init_template import starter_config

config_app = typer.Typer(help="Validate the configuration.", no_args_is_help=True)


def init(
    output: Path = typer.Option(Path(CONFIG_FILENAME), "--output", "-o", help="Where to write the file."),
    name: str | None = typer.Option(
        None, "--name", help="A short name for the store (letters, digits, -_.)."
    ),
    url: str | None = typer.Option(None, "--url", help="Storefront URL, e.g. https://shop.example.com/"),
    checkout_url: str | None = typer.Option(None, "--checkout-url", help="Checkout page URL."),
    web_root: list[Path] = typer.Option([], "--web-root", help="Folder with the shop's code (repeatable)."),
    platform: Platform | None = typer.Option(None, "--platform", help="Shop platform."),
    payment: PaymentIntegration | None = typer.Option(
        None, "--payment", help="How card data reaches the payment provider."
    ),
    company: str | None = typer.Option(None, "--company", help="Company name."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; use flags and defaults."),
) -> None:
    """Write a commented starter shopguard.toml (asks for what flags do not give)."""
    if output.exists() and not force:
        fail(f"{output} already exists; use --force to overwrite it")
    interactive = not yes

    def ask(value: str | None, prompt: str, default: str) -> str:
        if value is not None:
            return value
        return typer.prompt(prompt, default=default) if interactive else default

    name_v = ask(name, "Store name", "my-shop")
    url_v = ask(url, "Storefront URL", "https://shop.example.com/")
    checkout_v = ask(checkout_url, "Checkout page URL", url_v.rstrip("/") + "/checkout")
    platform_v = Platform(ask(platform.value if platform else None, "Platform", Platform.CUSTOM.value))
    payment_v = PaymentIntegration(
        ask(payment.value if payment else None, "Payment integration", PaymentIntegration.REDIRECT.value)
    )
    company_v = ask(company, "Company name", "Example Trading Ltd")
    roots = [str(p) for p in web_root]
    if not roots and interactive:
        entered = typer.prompt("Web root folder (blank to skip)", default="", show_default=False)
        roots = [entered] if entered else []
    text = starter_config(
        name=name_v,
        url=url_v,
        checkout_url=checkout_v,
        web_roots=roots,
        platform=platform_v,
        payment=payment_v,
        company=company_v,
    )
    try:
        parse_config(tomllib.loads(text), str(output))
    except (ConfigError, tomllib.TOMLDecodeError) as exc:
        fail(f"the answers do not make a valid config: {exc}")
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}", ExitCode.RUN_FAILED)
    Console(stderr=True, markup=False).print(
        f"Wrote {output}. Check it with `shopguard config check --config {output}`."
    )


@config_app.command("check")
def check(config: Path | None = CONFIG_OPTION) -> None:
    """Validate the config file; exit 2 with the field at fault when it is wrong."""
    path, cfg = load(config)
    console = Console(markup=False, highlight=False)
    console.print(
        f"{path}: valid, {len(cfg.stores)} store(s): {', '.join(s.name for s in cfg.stores) or 'none'}"
    )
    for s in cfg.stores:
        for root in s.web_roots:
            if s.is_local_host and not root.is_dir():
                console.print(f"  warning: stores.{s.name}.web_roots: {root} is not a folder on this machine")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(config_app, name="config")
