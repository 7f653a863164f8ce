# SPEC §5, GET /users/me — spelled exactly as on the wire (`creditDebt`: the market-maker issue's
# clawback beyond the balance).
PROFILE_FIELDS = {
    "id",
    "username",
    "email",
    "creditBalance",
    "creditDebt",
    "totalVolume",
    "overallPnL",
    "rankByPnL",
    "rankByVolume",
    "referralCode",
    "dailyStreak",
    "isStaff",
    "createdAt",
    "lastDailyRewardAt",
}
