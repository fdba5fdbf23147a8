"""A small, known dataset for tests (the bundled sample data is tested on its own)."""

from __future__ import annotations

# The Leeds group's point: a location shared there finds the Leeds activities below.
LEEDS = (53.7997, -1.5492)

GROUPS_CSV = """\
ref,name,kind,stream,town,nation,latitude,longitude,email,website,phone,telegram,description
leeds,Leeds City of Sanctuary (test),group,,Leeds,england,53.7997,-1.5492,leeds@example.org,https://example.org/leeds,0113 496 0000,,Welcome in Leeds.
leeds-uni,University of Leeds (test),stream,university,Leeds,england,53.8067,-1.5550,uni@example.org,,,,
sheffield,Sheffield City of Sanctuary (test),group,,Sheffield,england,53.3811,-1.4701,sheffield@example.org,,,,
cardiff,Cardiff City of Sanctuary (test),group,,Cardiff,wales,51.4816,-3.1791,cardiff@example.org,,,@cardiff_sanctuary_test,
belfast,Belfast City of Sanctuary (test),group,,Belfast,northern-ireland,54.5973,-5.9301,belfast@example.org,,,,
"""

ACTIVITIES_CSV = """\
ref,group_ref,title,category,description,venue,address,postcode,latitude,longitude,start_date,start_time,end_time,repeat,until,languages,cost,needs,contact
leeds-cafe,leeds,Conversation café,conversation,Tea and talk in easy English.,St Mary's Hall,1 Church Lane,LS1 1AA,53.8000,-1.5500,2026-01-06,18:00,20:00,weekly:TU,,en ar fa,,no_id step_free,Just come along
leeds-english,leeds,English for beginners,english,Learn English together.,Central Library,Headrow,LS1 3AB,53.8010,-1.5480,2026-01-07,10:00,12:00,weekly:WE,,en ar,,no_id children,leeds@example.org
leeds-football,leeds,Friday football,sport,Football for everyone.,Park pitches,Hyde Park,LS6 1AA,53.8100,-1.5700,2026-01-02,17:00,18:30,weekly:FR,,en,£1 donation,,
leeds-sewing,leeds,Sewing circle,arts,Make and mend clothes.,Community centre,Harehills Road,LS8 5AA,53.8150,-1.5150,2026-01-03,11:00,13:00,fortnightly:SA,,en uk,,women_only,
leeds-lunch,leeds,Community lunch,food,A warm lunch.,Church hall,Chapeltown Road,LS7 3AA,53.8200,-1.5350,2026-01-04,13:00,15:00,weekly:SU,,en ar ti,,children,
leeds-advice,leeds,Advice drop-in,advice,Free advice on housing and support.,Advice centre,Vicar Lane,LS2 7AA,53.7980,-1.5400,2026-01-05,10:00,13:00,monthly:1MO,,en fa,,interpreter no_id,
leeds-past,leeds,Summer picnic,food,A picnic.,Roundhay Park,Roundhay,LS8 2AA,53.8380,-1.4980,2026-07-01,12:00,15:00,once,,en,,,
leeds-uni-tea,leeds-uni,Student welcome tea,conversation,Meet students.,Students' union,Lifton Place,LS2 9JT,53.8070,-1.5560,2026-01-08,15:00,16:00,weekly:TH,,en fr,,,
sheffield-cafe,sheffield,Sheffield welcome café,conversation,Tea and cake.,Quaker Meeting House,St James Street,S1 2EW,53.3820,-1.4700,2026-01-06,14:00,16:00,weekly:TU,,en ar,,,
cardiff-choir,cardiff,Welcome choir,arts,Sing with us.,Chapel,Queen Street,CF10 2AA,51.4820,-3.1750,2026-01-07,19:00,20:30,weekly:WE,,en cy ar,,,
belfast-english,belfast,English conversation,english,Practise English.,Community hall,Ormeau Road,BT7 1AA,54.5900,-5.9250,2026-01-06,10:00,11:30,weekly:TU,,en,,,
"""
