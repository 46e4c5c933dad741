"""``python -m collabscope.synth example|corpus …`` (see :func:`collabscope.synth.main`)."""

from collabscope.synth import main

if __name__ == "__main__":
    main()
