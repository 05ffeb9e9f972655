"""``python -m nngrad`` is the ``nngrad`` command."""

from .cli import main

if __name__ == "__main__":
    main()
