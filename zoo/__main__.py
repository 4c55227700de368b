"""``python -m zoo`` (and ``torchrun -m zoo``) run the command line."""

from zoo.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="zoo")
