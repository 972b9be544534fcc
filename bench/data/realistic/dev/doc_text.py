"""Text of the dev half's Word handbook and PDF manual; `make_docs.py` builds them from it."""

HANDBOOK_FILE = "tarrowby_staff_handbook.docx"
HANDBOOK_META = ("Staff Handbook", "Tarrowby Freight Ltd")
MANUAL_FILE = "corvane_bm220_manual.pdf"
MANUAL_AUTHOR = "Corvane Home Appliances"

HANDBOOK = [
    ("title", "Tarrowby Freight Ltd — Staff Handbook"),
    ("p", "Version 4.2, effective 1 January 2025. This handbook applies to all employees at the "
          "Hull and Doncaster depots."),
    ("h1", "1 Working hours"),
    ("p", "The standard working week is 37.5 hours. Office staff may work flexitime, but everyone "
          "must be present during core hours, 10:00 to 15:00 from Monday to Thursday; on Fridays "
          "core hours end at 13:00. Drivers' shift rotas are published every Wednesday."),
    ("h1", "2 Leave"),
    ("h2", "2.1 Entitlement by grade"),
    ("p", "Annual leave is counted in working days and includes three company days at "
          "Christmas. Paid parental leave is available after 26 weeks of service."),
    ("table", [
        ["Grade", "Annual leave", "Paid parental leave", "Carry-over limit"],
        ["G1 Warehouse operative", "25 days", "12 weeks", "3 days"],
        ["G2 Driver", "26 days", "12 weeks", "5 days"],
        ["G3 Team leader", "27 days", "16 weeks", "5 days"],
        ["G4 Depot manager", "28 days", "18 weeks", "8 days"],
        ["G5 Director", "30 days", "20 weeks", "10 days"],
    ]),
    ("h2", "2.2 Booking leave"),
    ("p", "Book leave in the StaffHub app at least 10 working days in advance. Requests for more "
          "than two weeks in a row need your depot manager's approval. No leave can be taken in "
          "the peak period from 1 to 24 December except in an emergency."),
    ("h1", "3 Expenses"),
    ("p", "Submit claims through StaffHub with a photo of every receipt. Claims approved by the "
          "20th of the month are paid with that month's salary."),
    ("bullets", [
        "Business mileage in your own car is refunded at 45p per mile for the first 10,000 miles "
        "in a tax year.",
        "The overnight meal allowance is £28 per night; alcohol is never refunded.",
        "Rail travel is standard class unless the journey takes longer than three hours.",
        "Claims older than 90 days will not be paid.",
    ]),
    ("h1", "4 Who to ask"),
    ("p", "Questions about pay or leave go to the HR team at hr@tarrowby-freight.co.uk or "
          "extension 2140. Our health and safety lead is Gemma Oduya."),
]

MANUAL = {
    "title": "Corvane BM-220 Bread Maker",
    "subtitle": "User manual — model BM-220, for household use only",
    "intro": "Thank you for choosing the Corvane BM-220. Read these instructions before first use "
             "and keep them with the appliance. NEVER immerse the housing in water.",
    "specs": [
        ["Specification", "Value"],
        ["Rated power", "600 W"],
        ["Supply voltage", "220–240 V, 50 Hz"],
        ["Loaf sizes", "500 g, 750 g, 1 kg"],
        ["Programs", "14"],
        ["Delay timer", "up to 13 hours"],
        ["Dimensions (W × D × H)", "280 × 365 × 305 mm"],
        ["Weight", "5.8 kg"],
        ["Noise level (kneading)", "55 dB"],
    ],
    "steps_title": "Before first use",
    "steps": [
        "Remove all packaging and the protective film from the lid.",
        "Wipe the bread pan and kneading paddle with a damp cloth. The pan is NOT dishwasher safe.",
        "Place the machine on a dry, level worktop at least 10 cm away from walls and cupboards.",
        "Run program 12 (BAKE) empty for 10 minutes with the lid open to burn off manufacturing "
        "residues. A little smoke is normal.",
        "Let the machine cool down for 30 minutes, then fit the paddle and start your first loaf.",
    ],
    "codes_title": "Display codes",
    "codes": [
        ["Code", "Meaning", "What to do"],
        ["E-01", "TEMPERATURE SENSOR open circuit", "Unplug; contact Corvane service"],
        ["E-03", "Motor BLOCKED, paddle stuck", "Unplug, lift out the pan, free the paddle"],
        ["E-07", "Lid opened during BAKE", "Close the lid; the program resumes"],
        ["H:HH", "Chamber too HOT (above 50 °C)", "Open the lid and let it cool for 20 minutes"],
        ["L:LL", "Chamber too COLD (below 5 °C)", "Move the machine to a warmer room"],
    ],
    "footer": "Corvane Home Appliances. Service line 0800 612 4480 (Monday to Friday, 8:00–18:00). "
              "The BM-220 carries a 2-year warranty from the date of purchase; keep your receipt.",
}
