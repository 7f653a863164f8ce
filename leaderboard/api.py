from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from thisthat.openapi import error_responses
from thisthat.pagination import page_input
from thisthat.renderers import RenderedResponse, render_json
from thisthat.serializers import InputSerializer

from .models import Period
from .selectors import BoardPage, board_page_body, user_standing
from .serializers import BoardOutput, UserStandingOutput


class BoardInput(page_input(default_limit=100, max_limit=1000, name="LeaderboardPageInput")):
    period = serializers.ChoiceField(choices=Period.choices, required=False, default=Period.ALL)


class PeriodInput(InputSerializer):
    period = serializers.ChoiceField(choices=Period.choices, required=False, default=Period.ALL)


def _board(request, board: str) -> Response:
    query = BoardInput.from_query(request)

    def render(found: BoardPage) -> bytes:
        body = {"leaderboard": found.rows, "total": found.total, **query, "updated_at": found.updated_at}
        return render_json(BoardOutput(body).data)

    return RenderedResponse(board_page_body(board=board, **query, render=render))


class PnlBoardApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="leaderboard_pnl",
        parameters=[BoardInput],
        responses={200: BoardOutput, **error_responses(400)},
        description="Realised PnL in the period (UTC calendar windows). Lists only the users with a bet settled "
        "(won or lost) or sold in the period; `total` counts them. Ties share a rank (1, 2, 2, 4). As of "
        "`updatedAt`, the last recomputation.",
    )
    def get(self, request):
        return _board(request, "pnl")


class VolumeBoardApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="leaderboard_volume",
        parameters=[BoardInput],
        responses={200: BoardOutput, **error_responses(400)},
        description="Credits bet in the period. Lists only the users who placed a bet in the period; `total` "
        "counts them. Same ranking rules as the PnL board.",
    )
    def get(self, request):
        return _board(request, "volume")


class MyStandingApi(APIView):
    @extend_schema(
        operation_id="leaderboard_me",
        parameters=[PeriodInput],
        responses={200: UserStandingOutput, **error_responses(400, 401)},
        description="The caller's rank and value on each board for the period; `rank` is null (and `value` 0) "
        "on a board that does not list them (no bet placed, or none settled or sold, in the period).",
    )
    def get(self, request):
        query = PeriodInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        standing = user_standing(user_id=request.user.pk, **query.validated_data)
        return Response(UserStandingOutput(standing).data)
