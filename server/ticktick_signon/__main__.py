"""``python -m ticktick_signon``: the same CLI as the ``ticktick-signon`` command."""

from ticktick_signon.entry import main

if __name__ == "__main__":
    main(prog_name="ticktick-signon")
