import json

from django.core.management.base import BaseCommand, CommandError

from polymarket.resolution import ResolutionPollSummary, resolutions_poll


def summary_line(summary: ResolutionPollSummary) -> str:
    return (
        f"Checked {summary.checked} of {summary.candidates} candidate markets in {summary.requests} requests "
        f"in {summary.duration_seconds:.2f}s: {sum(summary.resolved.values())} resolved "
        f"{json.dumps(dict(summary.resolved), sort_keys=True)}, {sum(summary.waiting.values())} waiting "
        f"{json.dumps(dict(summary.waiting), sort_keys=True)}, {len(summary.errors)} errors, "
        f"{summary.closed} closed to bets"
    )


class Command(BaseCommand):
    help = "Ask Polymarket whether candidate markets have resolved and settle those that have (the 60-second job)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="Markets to check at most (default POLYMARKET_RESOLUTION_BATCH).")

    def handle(self, *args, limit: int | None, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        summary = resolutions_poll(limit=limit, progress=self.stdout.write)
        for error in summary.errors:
            self.stderr.write(f"problem: {error}")
        line = summary_line(summary)
        if summary.requests and summary.failed_requests == summary.requests:
            raise CommandError(f"{line} — Polymarket could not be read.")
        self.stdout.write(self.style.SUCCESS(line) if not summary.errors else self.style.WARNING(line))
