"""Run the Slack emulator in its own process (so its work does not skew the measurement).

Prints its base URL on stdout, then serves until stdin closes.
"""

from __future__ import annotations

import sys

from bot.sandbox.emulator import SlackEmulator
from bot.sandbox.emulator.config import SUPPORT_CHANNEL, User

AGENTS = 50


def agent_id(n: int) -> str:
    return f"U0BENCH{n:04d}"


def main() -> None:
    with SlackEmulator() as emulator:
        for n in range(AGENTS):
            emulator.add_user(User(agent_id(n), f"agent{n}", f"Agent {n}", f"agent{n}@example.com"))
            emulator.add_member(SUPPORT_CHANNEL, agent_id(n))
        print(emulator.base_url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
