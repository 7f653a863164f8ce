# SPEC §5, GET /users/me — spelled exactly as on the wire; xAccount and hasPassword come with sign in with X.
PROFILE_FIELDS = {
    "id",
    "username",
    "email",
    "creditBalance",
    "totalVolume",
    "overallPnL",
    "rankByPnL",
    "rankByVolume",
    "referralCode",
    "dailyStreak",
    "isStaff",
    "createdAt",
    "lastDailyRewardAt",
    "xAccount",
    "hasPassword",
}
